/**
 * @file sipx_int.h  SIP helpers: internals shared by their files
 */

/* standin.c: header values libre's parser refuses */
unsigned sipx_standin(const uint8_t *p, size_t n, uint8_t *fix);
int  sipx_standin_err(struct sip_msg *msg, unsigned found);
bool sipx_standin_reason(int err, const char **reason);
