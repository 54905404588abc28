/**
 * @file pcscf.h  eP-CSCF: a 24.229 P-CSCF whose UE side is SIP over WSS
 */

struct pcscf;
struct imsedge_conf;
struct w2;
struct agw;

int  pcscf_alloc(struct pcscf **pp, struct imsedge_conf *conf,
		 struct w2 *w2, struct agw *agw);
void pcscf_shutdown(struct pcscf *p);
uint32_t pcscf_registrations(const struct pcscf *p);
