/**
 * @file unix.c  Local (AF_UNIX) stream sockets for the control socket
 */
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <re.h>
#include "net.h"


static int addr_set(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;

	if (!path || strlen(path) >= sizeof(un->sun_path))
		return ENAMETOOLONG;

	strcpy(un->sun_path, path);
	return 0;
}


/**
 * Connect to a local socket (blocking, with send and receive timeouts)
 *
 * @param fdp    Returned descriptor
 * @param path   Socket path
 * @param tmo_ms Timeout of each send and receive
 *
 * @return 0 if success, otherwise errorcode
 */
int net_unix_connect(int *fdp, const char *path, unsigned tmo_ms)
{
	struct sockaddr_un un;
	struct timeval tv = {tmo_ms / 1000, (tmo_ms % 1000) * 1000};
	int fd, err;

	err = addr_set(&un, path);
	if (err)
		return err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		err = errno;
		(void)close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}


/**
 * Listen on a local socket that only the owner may use (mode 0600). A
 * stale socket file (nobody answers on it) is replaced; one in use is
 * EADDRINUSE.
 *
 * @param fdp  Returned listening descriptor (non-blocking)
 * @param path Socket path
 *
 * @return 0 if success, otherwise errorcode
 */
int net_unix_listen(int *fdp, const char *path)
{
	struct sockaddr_un un;
	mode_t old;
	int fd, err;

	err = addr_set(&un, path);
	if (err)
		return err;

	if (!net_unix_connect(&fd, path, 200)) {
		(void)close(fd);
		return EADDRINUSE;
	}
	(void)unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;

	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ? errno : 0;
	umask(old);
	if (!err && chmod(path, 0600) < 0)
		err = errno;
	if (!err && listen(fd, 8) < 0)
		err = errno;
	if (!err && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		err = errno;

	if (err) {
		(void)close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}


/**
 * Accept a connection on a local socket; it gets send and receive
 * timeouts so a stuck client cannot hold the loop long
 *
 * @param fdp Returned descriptor (blocking)
 * @param lfd Listening descriptor
 *
 * @return 0 if success, otherwise errorcode
 */
int net_unix_accept(int *fdp, int lfd)
{
	struct timeval tv = {1, 0};
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return errno;

	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	*fdp = fd;
	return 0;
}
