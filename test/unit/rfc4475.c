/**
 * @file rfc4475.c  RFC 4475 torture messages through sipx_decode() and
 *                  sipx_validate() (libre's parser with our patch 0004):
 *                  valid ones parse and validate, invalid ones are
 *                  refused with a reason
 *
 * Written with LF line ends for reading; crlf() turns them into CRLF
 * and fills @CL@ with the length of the body after the blank line.
 */
#include <string.h>
#include <re.h>
#include "sip/sipx.h"
#include "test.h"

#define SDP "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.1\ns=-\n"	\
	"c=IN IP4 192.0.2.1\nt=0 0\nm=audio 49217 RTP/AVP 0 12\n"	\
	"m=video 3227 RTP/AVP 31\na=rtpmap:31 LPC\n"

enum want {
	VALID,        /* decodes and validates                        */
	UNPARSABLE,   /* sipx_decode fails: W2 closes 1007            */
	BAD,          /* decodes, sipx_validate fails: 400            */
	OTHER_VERSION, /* another SIP version: answered 505            */
	FAULT,        /* decodes at fault (line, length): 400        */
	BAD_TO,       /* a To libre cannot decode: 400 Bad To        */
	BAD_FROM,     /* a From libre cannot decode: 400 Bad From    */
	BAD_CSEQ,     /* a CSeq libre cannot decode: 400 Bad CSeq    */
	BAD_CTYPE,    /* ... a Content-Type: 400 Bad Content-Type    */
};

static const struct {
	const char *name;     /* RFC 4475 section and name */
	enum want want;
	const char *text;
} tv[] = {
	{"3.1.1.1 wsinv", VALID,
	 "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\n"
	 "TO :\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
	 "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n"
	 "  ;\n  tag = 98asjd8\n"
	 "MaX-fOrWaRdS: 0068\n"
	 "Call-ID: wsinv.ndaksdj@192.0.2.1\n"
	 "Content-Length   : @CL@\n"
	 "cseq: 0009\n  INVITE\n"
	 "Via  : SIP  /   2.0\n /UDP\n    192.0.2.2;rport;branch=390skdjuw\n"
	 "s :\n"
	 "NewFangledHeader:   newfangled value\n continued newfangled value\n"
	 "UnknownHeaderWithUnusualValue: ;;,,;;,;\n"
	 "Content-Type: application/sdp\n"
	 "Route:\n <sip:services.example.com;lr;unknownwith=value;"
	 "unknown-no-value>\n"
	 "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\n"
	 "  branch  =   z9hG4bK9ikj8  ,\n"
	 " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\n"
	 " z9hG4bK30239\n"
	 "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; "
	 "newparam =\n      newvalue ;\n  secondparam ; q = 0.33\n"
	 "\n" SDP},
	{"3.1.1.3 esc01", VALID,
	 "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\n"
	 "To: sip:%75se%72@example.com\n"
	 "From: <sip:I%20have%20spaces@example.net>;tag=938\n"
	 "Max-Forwards: 87\n"
	 "i: esc01.239409asdfakjkn23onasd0-3234\n"
	 "CSeq: 234234 INVITE\n"
	 "Via: SIP/2.0/UDP host5.example.net;rport;branch=z9hG4bKkdjuw\n"
	 "C: application/sdp\n"
	 "Contact:\n  <sip:cal%6Cer@host5.example.net;%6C%72;"
	 "n%61me=v%61lue%25%34%31>\n"
	 "Content-Length: @CL@\n\n" SDP},
	{"3.1.1.6 lwsdisp", VALID,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: sip:user@example.com\n"
	 "From: caller<sip:caller@example.com>;tag=323\n"
	 "Max-Forwards: 70\n"
	 "Call-ID: lwsdisp.1234abcd@funky.example.com\n"
	 "CSeq: 60 OPTIONS\n"
	 "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\n"
	 "l: 0\n\n"},
	{"3.1.1.10 quoted display name with < and escapes", VALID,
	 "MESSAGE sip:user@example.com SIP/2.0\n"
	 "To: \"a <b> \\\"c\\\\\" <sip:user@example.com>\n"
	 "From: \"x,y\" <sip:caller@example.com>;tag=1\n"
	 "Max-Forwards: 70\n"
	 "Call-ID: quoted.1\n"
	 "CSeq: 1 MESSAGE\n"
	 "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\n"
	 "Contact: \"q\\\",<sip:evil>\" <sip:caller@a.example.com>\n"
	 "Content-Length: 0\n\n"},
	{"unknown method with a body", VALID,
	 "NEWMETHOD sip:user@example.com SIP/2.0\n"
	 "To: sip:j.user@example.com\n"
	 "From: sip:caller@example.net;tag=34525\n"
	 "Max-Forwards: 6\n"
	 "Call-ID: newmethod.dj0234sxdfl3\n"
	 "CSeq: 8 NEWMETHOD\n"
	 "Contact: <sip:caller@host.example.net>\n"
	 "Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw\n"
	 "Content-Type: application/sdp\n"
	 "l: @CL@\n\n" SDP},
	{"3.4.1 inv2543", VALID,
	 "INVITE sip:UserB@example.com SIP/2.0\n"
	 "Via: SIP/2.0/UDP iftgw.example.com\n"
	 "From: <sip:+13035551111@ift.client.example.net;user=phone>\n"
	 "Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\n"
	 "To: sip:+16505552222@ss1.example.net;user=phone\n"
	 "Call-ID: inv2543.1717@ift.client.example.com\n"
	 "CSeq: 56 INVITE\n"
	 "Content-Type: application/sdp\n"
	 "\n" SDP},
	{"3.3.11 zeromf", VALID,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas\n"
	 "CSeq: 39234321 OPTIONS\n"
	 "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i\n"
	 "Max-Forwards: 0\n"
	 "To: sip:user@example.com\n"
	 "From: sip:caller@example.net;tag=3ghsd41\n"
	 "l: 0\n\n"},
	{"3.1.2.2 clerr", FAULT,
	 "INVITE sip:user@example.com SIP/2.0\n"
	 "Max-Forwards: 80\nTo: sip:j.user@example.com\n"
	 "From: sip:caller@example.net;tag=93942939o2\n"
	 "Call-ID: clerr.0ha0isndaksdjweiafasdk3\nCSeq: 8 INVITE\n"
	 "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\n"
	 "Content-Type: application/sdp\nContent-Length: 9999\n\n" SDP},
	{"3.1.2.3 ncl", FAULT,
	 "INVITE sip:user@example.com SIP/2.0\n"
	 "Max-Forwards: 254\nTo: sip:j.user@example.com\n"
	 "From: sip:caller@example.net;tag=32394234\n"
	 "Call-ID: ncl.0ha0isndaksdj2193423r542w35\nCSeq: 0 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw\n"
	 "Content-Type: application/sdp\nContent-Length: -999\n\n" SDP},
	{"3.1.2.4 scalar02", BAD,
	 "REGISTER sip:example.com SIP/2.0\n"
	 "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
	 "To: <sip:user@example.com>\n"
	 "From: <sip:user@example.com>;tag=239232jh3\n"
	 "CSeq: 36893488147419103232 REGISTER\n"
	 "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\n"
	 "Max-Forwards: 300\n"
	 "Expires: 1000000000000000000000000000000000000000000000000000\n"
	 "Contact: <sip:user@host129.example.com>;expires=280297596632815\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.6 quotbal (answered 400 Bad To)", BAD_TO,
	 "INVITE sip:user@example.com SIP/2.0\n"
	 "To: \"Mr. J. User <sip:j.user@example.com>\n"
	 "From: sip:caller@example.net;tag=93334\n"
	 "Max-Forwards: 10\nCall-ID: quotbal.aksdj\nCSeq: 8 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234\n"
	 "Content-Type: application/sdp\nContent-Length: @CL@\n\n" SDP},
	{"3.1.2.7 ltgtruri", BAD,
	 "INVITE <sip:user@example.com> SIP/2.0\n"
	 "To: sip:user@example.com\nFrom: sip:caller@example.net;tag=39291\n"
	 "Max-Forwards: 23\nCall-ID: ltgtruri.1@192.0.2.5\nCSeq: 1 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.5\n"
	 "Content-Type: application/sdp\nContent-Length: @CL@\n\n" SDP},
	{"3.1.2.8 lwsruri", FAULT,
	 "INVITE sip:user@example.com; lr SIP/2.0\n"
	 "To: sip:user@example.com;tag=3xfe-9921883-z9f\n"
	 "From: sip:caller@example.net;tag=231413434\n"
	 "Max-Forwards: 5\n"
	 "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423\n"
	 "CSeq: 2130706432 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.9 lwsstart", FAULT,
	 "INVITE  sip:user@example.com  SIP/2.0\n"
	 "Max-Forwards: 8\n"
	 "To: sip:user@example.com\n"
	 "From: sip:caller@example.net;tag=8814\n"
	 "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com\n"
	 "CSeq: 1893884 INVITE\n"
	 "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923\n"
	 "Contact: <sip:caller@host1.example.net>\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.10 trws", FAULT,
	 "OPTIONS sip:remote-target@example.com SIP/2.0  \n"
	 "Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093\n"
	 "To: <sip:remote-target@example.com>\n"
	 "From: <sip:local-resource@example.com>;tag=329429089\n"
	 "Call-ID: trws.oicu34958239neffasdhr2345r\n"
	 "CSeq: 238923 OPTIONS\n"
	 "Max-Forwards: 70\n"
	 "Content-Length: 0\n\n"},
	{"tab between Request-Line elements", FAULT,
	 "OPTIONS\tsip:remote-target@example.com SIP/2.0\n"
	 "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093\n"
	 "To: <sip:remote-target@example.com>\n"
	 "From: <sip:local-resource@example.com>;tag=329429089\n"
	 "Call-ID: tab.1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"},
	{"3.1.2.18 mcl01", FAULT,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423\n"
	 "To: sip:user@example.com\n"
	 "From: sip:other@example.net;tag=3923942\n"
	 "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\n"
	 "CSeq: 15932 OPTIONS\n"
	 "Content-Length: 13\n"
	 "Max-Forwards: 60\n"
	 "Content-Length: 5\n"
	 "Content-Type: text/plain\n\n"
	 "There's no way to know how many octets are supposed to be here.\n"},
	{"3.1.2.5 dblreq (two requests in one message)", FAULT,
	 "REGISTER sip:example.com SIP/2.0\n"
	 "To: sip:j.user@example.com\n"
	 "From: sip:j.user@example.com;tag=43251j3j324\n"
	 "Max-Forwards: 8\n"
	 "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\n"
	 "Contact: sip:j.user@host.example.com\n"
	 "CSeq: 8 REGISTER\n"
	 "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\n"
	 "Content-Length: 0\n\n"
	 "INVITE sip:joe@example.com SIP/2.0\n"
	 "t: sip:joe@example.com\n"
	 "From: sip:caller@example.net;tag=141334\n"
	 "Max-Forwards: 8\n"
	 "Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15\n"
	 "CSeq: 8 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\n"
	 "Content-Length: 0\n"},
	{"3.3.4 unksm2 (a From of an unknown scheme: 400 Bad From)",
	 BAD_FROM,
	 "REGISTER sip:example.com SIP/2.0\n"
	 "To: isbn:2983792873\n"
	 "From: <http://www.example.com>;tag=3234233\n"
	 "Call-ID: unksm2.daksdj@hyphenated-host.example.com\n"
	 "CSeq: 234902 REGISTER\n"
	 "Max-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\n"
	 "Contact: <name:John_Smith>\n"
	 "l: 0\n\n"},
	{"3.3.4 unksm (isbn: and tel: in To, as libre takes them)", VALID,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: isbn:2983792873\n"
	 "From: <tel:+14085551234>;tag=1\n"
	 "Call-ID: unksm.1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"a folded To with an unbalanced quote and a tag", BAD_TO,
	 "BYE sip:user@example.com SIP/2.0\n"
	 "t:\n  \"Mr. J. <sip:j@example.com>;tag=77\n"
	 "From: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: quot.2\nCSeq: 2 BYE\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"a To of three bytes without a scheme", BAD_TO,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: <a> \n"
	 "From: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: quot.4\nCSeq: 2 OPTIONS\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"a CSeq without a number (and a bad To: the To is named)", BAD_TO,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: <a>\nFrom: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: cseq.1\nCSeq: OPTIONS\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"a CSeq without a number", BAD_CSEQ,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: <sip:user@example.com>\nFrom: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: cseq.2\nCSeq: OPTIONS\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"a Content-Type without a subtype (compact form)", BAD_CTYPE,
	 "MESSAGE sip:user@example.com SIP/2.0\n"
	 "To: <sip:user@example.com>\nFrom: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: ctype.1\nCSeq: 1 MESSAGE\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\n"
	 "c: text\nl: @CL@\n\nhello"},
	{"a To too short to stand in for (2 bytes)", UNPARSABLE,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: \"a\n"
	 "From: <sip:caller@example.net>;tag=1\n"
	 "Call-ID: quot.3\nCSeq: 2 OPTIONS\nMax-Forwards: 70\n"
	 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"no SIP-Version (resiprocate test)", UNPARSABLE,
	 "INVITE sip:alan@jasomi.com\n"
	 "TO : alan@jasomi.com\n"
	 "From: ralph@example.com\n"
	 "Call-ID: test.0ha0isndaksdj@192.0.2.1\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.13 badinv01 (empty parameters)", BAD,
	 "INVITE sip:user@example.com SIP/2.0\n"
	 "To: sip:j.user@example.com\n"
	 "From: sip:caller@example.net;tag=134161461246\n"
	 "Max-Forwards: 7\n"
	 "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\n"
	 "CSeq: 8 INVITE\n"
	 "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1\n"
	 "Contact: \"Joe\" <sip:joe@example.org>;;;;\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.14 regbadct (bare Contact with headers)", BAD,
	 "REGISTER sip:example.com SIP/2.0\n"
	 "To: sip:user@example.com\n"
	 "From: sip:user@example.com;tag=998332\n"
	 "Max-Forwards: 70\n"
	 "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1\n"
	 "CSeq: 1 REGISTER\n"
	 "Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw\n"
	 "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\n"
	 "l: 0\n\n"},
	{"3.1.2.15 badaspec (spaces inside <>)", BAD,
	 "OPTIONS sip:user@example.org SIP/2.0\n"
	 "Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234\n"
	 "Max-Forwards: 70\n"
	 "From: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423\n"
	 "To: \"Watson, Thomas\" < sip:t.watson@example.org >\n"
	 "Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\n"
	 "CSeq: 3923239 OPTIONS\n"
	 "l: 0\n\n"},
	{"baddn (unquoted display name with a comma)", BAD,
	 "OPTIONS sip:t.watson@example.org SIP/2.0\n"
	 "Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw\n"
	 "Max-Forwards:      70\n"
	 "From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n"
	 "To:      Watson, Thomas <sip:t.watson@example.org>\n"
	 "Call-ID: baddn.31415@c.example.com\n"
	 "CSeq:    3923239 OPTIONS\n"
	 "l: 0\n\n"},
	{"bigcode (status code 4294967301)", BAD,
	 "SIP/2.0 4294967301 better not break the receiver\n"
	 "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
	 "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\n"
	 "CSeq: 353494 INVITE\n"
	 "From: <sip:user@example.com>;tag=39ansfi3\n"
	 "To: <sip:user@example.edu>;tag=902jndnke3\n"
	 "Content-Length: 0\n\n"},
	{"noreason (status line without a reason)", VALID,
	 "SIP/2.0 100 \n"
	 "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\n"
	 "Call-ID: noreason.asndj203insdf99223ndf\n"
	 "CSeq: 35 INVITE\n"
	 "From: <sip:user@example.com>;tag=39ansfi3\n"
	 "To: <sip:user@example.edu>;tag=902jndnke3\n"
	 "Content-Length: 0\n\n"},
	{"addresses as JsSIP and Kamailio write them", VALID,
	 "REGISTER sip:ims.test SIP/2.0\n"
	 "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\n"
	 "Max-Forwards: 69\n"
	 "To: \"Alice \\\"A\\\" Smith\" <sip:alice@ims.test>\n"
	 "From: Alice Smith <sip:alice@ims.test>;tag=a1;x=\"q;r\"\n"
	 "Call-ID: addr.1\n"
	 "CSeq: 1 REGISTER\n"
	 "Contact: <sip:x@df7jal23ls0d.invalid;transport=ws>;expires=600;"
	 "+sip.instance=\"<urn:uuid:1-2>\";reg-id=1;+sip.ice\n"
	 "Contact: *\n"
	 "Content-Length: 0\n\n"},
	{"3.1.2.16 badvers", OTHER_VERSION,
	 "OPTIONS sip:t.watson@example.org SIP/7.0\n"
	 "Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "Max-Forwards:     70\n"
	 "From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\n"
	 "To:      T. Watson <sip:t.watson@example.org>\n"
	 "Call-ID: badvers.31417@c.example.com\n"
	 "CSeq:    1 OPTIONS\n"
	 "l: 0\n\n"},
	/* the same with a two-digit major version and a body */
	{"badvers (SIP/10.1)", OTHER_VERSION,
	 "MESSAGE sip:t.watson@example.org SIP/10.1\n"
	 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "Max-Forwards: 70\n"
	 "From: <sip:a.g.bell@example.com>;tag=qweoiqpe\n"
	 "To: <sip:t.watson@example.org>\n"
	 "Call-ID: badvers.2@c.example.com\n"
	 "CSeq: 1 MESSAGE\n"
	 "Content-Type: text/plain\n"
	 "Content-Length: @CL@\n\nhi"},
	/* RFC 3261 7.1: the version is case-insensitive */
	{"lower-case sip/2.0", VALID,
	 "OPTIONS sip:t.watson@example.org sip/2.0\n"
	 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "Max-Forwards: 70\n"
	 "From: <sip:a.g.bell@example.com>;tag=qweoiqpe\n"
	 "To: <sip:t.watson@example.org>\n"
	 "Call-ID: lower.1@c.example.com\n"
	 "CSeq: 1 OPTIONS\n"
	 "l: 0\n\n"},
	/* no answer can be built for these: the version is no version, or
	   it is a response */
	{"bad version token (SIP/7)", UNPARSABLE,
	 "OPTIONS sip:t.watson@example.org SIP/7\n"
	 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.org>\n"
	 "Call-ID: v.3@c\nCSeq: 1 OPTIONS\nl: 0\n\n"},
	{"response of another version", BAD,
	 "SIP/7.0 200 OK\n"
	 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.org>;tag=2\n"
	 "Call-ID: v.4@c\nCSeq: 1 OPTIONS\nl: 0\n\n"},
	{"version too long (SIP/2.0000)", UNPARSABLE,
	 "OPTIONS sip:t.watson@example.org SIP/2.0000\n"
	 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\n"
	 "From: <sip:a@example.com>;tag=1\nTo: <sip:b@example.org>\n"
	 "Call-ID: v.5@c\nCSeq: 1 OPTIONS\nl: 0\n\n"},
	{"3.1.2.17 mismatch01", BAD,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: sip:j.user@example.com\nFrom: sip:caller@example.net;tag=34525\n"
	 "Max-Forwards: 6\nCall-ID: mismatch01.dj0234sxdfl3\nCSeq: 8 INVITE\n"
	 "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\nl: 0\n\n"},
	{"3.3.8 multi01", BAD,
	 "INVITE sip:user@company.com SIP/2.0\n"
	 "Contact: <sip:caller@host25.example.net>\n"
	 "Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw\n"
	 "Max-Forwards: 70\nCSeq: 5 INVITE\n"
	 "Call-ID: multi01.98asdh@192.0.2.1\nCSeq: 59 INVITE\n"
	 "Call-ID: multi01.98asdh@192.0.2.2\n"
	 "From: sip:caller@example.com;tag=3413415\n"
	 "To: sip:user@example.com\nTo: sip:other@example.net\n"
	 "From: sip:caller@example.net;tag=2923420123\n"
	 "Content-Type: application/sdp\nl: @CL@\n\n" SDP},
	{"bad header name", BAD,
	 "OPTIONS sip:user@example.com SIP/2.0\n"
	 "To: sip:user@example.com\nFrom: sip:caller@example.net;tag=1\n"
	 "Call-ID: badname.1\nCSeq: 1 OPTIONS\n"
	 "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\n"
	 "P-Asserted Identity: <sip:boss@example.com>\nl: 0\n\n"},
};


/* LF to CRLF, @CL@ to the body's length */
static int crlf(char *out, size_t sz, const char *in)
{
	const char *body = strstr(in, "\n\n");
	size_t blen = 0, n = 0;
	const char *p;
	char cl[16];

	if (body) {
		for (p = body + 2; *p; p++)
			blen += *p == '\n' ? 2 : 1;
	}
	(void)re_snprintf(cl, sizeof(cl), "%zu", blen);

	for (p = in; *p; p++) {
		const char *s = p;
		size_t l = 1;

		if (!strncmp(p, "@CL@", 4)) {
			s = cl;
			l = strlen(cl);
			p += 3;
		}
		else if (*p == '\n') {
			s = "\r\n";
			l = 2;
		}

		if (n + l >= sz)
			return ENOMEM;
		memcpy(out + n, s, l);
		n += l;
	}

	out[n] = '\0';
	return 0;
}


int test_sipx_rfc4475(void)
{
	static char text[8192];
	bool fail = false;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct sip_msg *msg = NULL;
		const char *reason = NULL;
		enum want got;
		int e;

		TEST_ERR(crlf(text, sizeof(text), tv[i].text));

		e = sipx_decode(&msg, (const uint8_t *)text, strlen(text));
		if (e == EPROTONOSUPPORT && msg && msg->req)
			got = OTHER_VERSION;
		else if (e == EDESTADDRREQ && msg && msg->req)
			got = BAD_TO;
		else if (e == EADDRNOTAVAIL && msg && msg->req)
			got = BAD_FROM;
		else if (e == EBADRQC && msg && msg->req)
			got = BAD_CSEQ;
		else if (e == EMEDIUMTYPE && msg && msg->req)
			got = BAD_CTYPE;
		else if (e && msg)
			got = msg->req ? FAULT : BAD;
		else if (e)
			got = UNPARSABLE;
		else
			got = sipx_validate(msg, &reason) ? BAD : VALID;

		if (got != tv[i].want) {
			re_fprintf(stderr, "%s: got %d (%s), want %d\n",
				   tv[i].name, got, reason ? reason : "-",
				   tv[i].want);
			fail = true;
		}

		mem_deref(msg);
	}

 out:
	return err ? err : fail ? EINVAL : 0;
}


/* 3.1.1.7 longreq: long values and many Vias without branch */
int test_sipx_longreq(void)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	struct mbuf *mb = mbuf_alloc(8192);
	int i, err = 0;

	TEST_ASSERT(mb);
	err = mbuf_printf(mb, "INVITE sip:user@example.com SIP/2.0\r\n"
			  "To: \"I have a user name of ");
	for (i = 0; i < 10; i++)
		err |= mbuf_write_str(mb, "extreme");
	err |= mbuf_printf(mb, " proportion\"<sip:user@example.com:6000;"
			   "unknownparam1=verylongvalue>\r\nF: sip:");
	for (i = 0; i < 5; i++)
		err |= mbuf_write_str(mb, "amazinglylongcallername");
	err |= mbuf_printf(mb, "@example.net;tag=12");
	for (i = 0; i < 50; i++)
		err |= mbuf_write_str(mb, "982");
	err |= mbuf_printf(mb, "424\r\nCall-ID: longreq.one");
	for (i = 0; i < 20; i++)
		err |= mbuf_write_str(mb, "really");
	err |= mbuf_printf(mb, "longcallid\r\nCSeq: 3882340 INVITE\r\n");
	for (i = 33; i > 0; i--)
		err |= mbuf_printf(mb, "%s: SIP/2.0/TCP sip%d.example.com\r\n",
				   i % 3 ? "Via" : i % 2 ? "v" : "V  ", i);
	err |= mbuf_printf(mb, "Max-Forwards: 70\r\nContent-Length: 0\r\n"
			   "\r\n");
	TEST_ERR(err);

	TEST_ERR(sipx_decode(&msg, mb->buf, mb->end));
	TEST_ERR(sipx_validate(msg, &reason));
	TEST_EQ(list_count(&msg->hdrl) > 33, true);

 out:
	mem_deref(msg);
	mem_deref(mb);
	return err;
}
