/* netguard.c - an LD_PRELOAD library for tests: every connect(), sendto()
 * and sendmsg() to an IPv4 or IPv6 address outside loopback is refused
 * (ENETUNREACH: nothing leaves the machine) and written down; those to
 * 127.0.0.0/8 and ::1 go through and are written down too.
 *
 * NETGUARD_LOG=FILE names the file; each event appends one line:
 *   "loaded PID"                when the library is loaded in a process,
 *   "allow ADDR PORT"           a loopback connect (or datagram),
 *   "block ADDR PORT"           anything else (refused).
 * Without NETGUARD_LOG nothing is written, and non-loopback addresses are
 * still refused. Other families (AF_UNIX, netlink) are left alone.
 *
 * What it cannot see: calls made inside the C library through its own
 * internal entry points (glibc's DNS resolver connects its UDP sockets so)
 * and raw syscall(2). A host name resolved by the tool would show up as a
 * connect to the address it resolved to, which is refused here.
 *
 * Built without sanitizers (CMakeLists.txt): it is preloaded before an
 * ASan runtime, which then needs ASAN_OPTIONS=verify_asan_link_order=0. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc declares the address parameter as a transparent union under
 * _GNU_SOURCE (__CONST_SOCKADDR_ARG); the definitions below must match. */
#if defined(__USE_GNU) && defined(__GNUC__)
#define SOCKADDR_OF(a) ((a).__sockaddr__)
#else
#define SOCKADDR_OF(a) (a)
#endif

/* Appends one line to NETGUARD_LOG (one write(2): lines of concurrent
 * threads and processes do not mix). errno is kept. */
static void note(const char *line)
{
    const char *path = getenv("NETGUARD_LOG");
    int saved = errno;
    int fd = -1;

    if (path == NULL || *path == '\0')
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, line, strlen(line));

        (void)w;
        close(fd);
    }
    errno = saved;
}

__attribute__((constructor)) static void netguard_loaded(void)
{
    char line[64];

    snprintf(line, sizeof(line), "loaded %ld\n", (long)getpid());
    note(line);
}

/* 1 when addr is loopback, 0 when it is an internet address elsewhere,
 * -1 when it is not an internet address (left alone). The address and
 * port go into text. */
static int classify(const struct sockaddr *addr, socklen_t len, char *text,
                    size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (addr == NULL || len < (socklen_t)sizeof(sa_family_t))
        return -1;
    if (addr->sa_family == AF_INET &&
        len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;

        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(text, cap, "%s %u", ip, (unsigned)ntohs(a->sin_port));
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6 &&
        len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        const uint8_t *b = a->sin6_addr.s6_addr;

        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(text, cap, "%s %u", ip, (unsigned)ntohs(a->sin6_port));
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return 1;
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && b[12] == 127;
    }
    return -1;
}

/* Writes the verdict on addr down; returns true when it must be
 * refused. */
static bool refused(const struct sockaddr *addr, socklen_t len)
{
    char text[96], line[128];
    int kind = classify(addr, len, text, sizeof(text));

    if (kind < 0)
        return false;
    snprintf(line, sizeof(line), "%s %s\n", kind ? "allow" : "block", text);
    note(line);
    return kind == 0;
}

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    int (*next)(int, __CONST_SOCKADDR_ARG, socklen_t) = NULL;

    if (refused(SOCKADDR_OF(addr), len)) {
        errno = ENETUNREACH;
        return -1;
    }
    *(void **)&next = dlsym(RTLD_NEXT, "connect");
    return next(fd, addr, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    ssize_t (*next)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG,
                    socklen_t) = NULL;

    if (refused(SOCKADDR_OF(addr), len)) {
        errno = ENETUNREACH;
        return -1;
    }
    *(void **)&next = dlsym(RTLD_NEXT, "sendto");
    return next(fd, buf, n, flags, addr, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t (*next)(int, const struct msghdr *, int) = NULL;

    if (msg != NULL && refused(msg->msg_name, msg->msg_namelen)) {
        errno = ENETUNREACH;
        return -1;
    }
    *(void **)&next = dlsym(RTLD_NEXT, "sendmsg");
    return next(fd, msg, flags);
}
