/*
 * containerctl-helper: the two steps of the start path that POSIX sh and
 * util-linux cannot do. See docs/runtime.md.
 *
 *   helper hold  -n NAME -s SIGNAL -t TIMEOUT -c TTYS [-x CLEANUP] [-S FILE] -- COMMAND...
 *     The resident piece (one per running container, the unit's main
 *     process). Allocates the console and tty ptys, unshares the pid
 *     namespace and forks COMMAND as its PID 1, copies console output to
 *     stdout (the journal), serves `containerctl console/stop/exec` on the
 *     abstract socket "@containerctl/NAME" (root peers only), sends
 *     sd_notify READY=1 once the guest init is exec'd, turns SIGTERM, SIGINT,
 *     SIGHUP, SIGPWR and SIGRTMIN+3 into the guest's stop signal, SIGKILLs
 *     the guest after TIMEOUT seconds, and exits with the guest's status
 *     (133 when the guest rebooted, 0 when it halted or was stopped).
 *     With -x (no systemd to run ExecStopPost=) it runs CLEANUP NAME first;
 *     with -S it writes that exit status to FILE last (upstart's post-stop).
 *
 *   helper enter -n NAME [-u FILE]... [-m DIR] [-d CAP]... [-e NAME=VALUE]... [-a ARG]... ROOT INIT
 *     The last step, run inside the new namespaces once every mount is in
 *     place: pivot_root(ROOT, ROOT), detach the old root, remove the stage's
 *     scratch FILEs (paths in the new root), detach the init shim's scratch
 *     tmpfs DIR and remove its mount point (the mounts made from it stay), make /dev's null, zero, full,
 *     random, urandom, tty and its ptmx/fd/stdio links, drop the given
 *     capabilities (names as in capabilities(7), without cap_) from the
 *     bounding set, open /dev/console on
 *     fds 0-2, close every other fd on exec, and exec INIT with a clean
 *     environment. Only this can run after pivot_root, because the host's
 *     util-linux binaries are gone once the old root is detached.
 *
 *   helper execin PID -- COMMAND...
 *     containerctl exec: enter every namespace of the guest init PID (its
 *     mount namespace last, which makes the guest's / our root and cwd)
 *     after joining its cgroups,
 *     fork into its pid namespace, drop from the bounding set whatever the
 *     guest init lacks, close every fd above 2 and exec COMMAND with the
 *     caller's environment; wait and exit with its status. On a terminal,
 *     COMMAND gets a pty of the guest's devpts and we relay (raw mode),
 *     so the caller's terminal never reaches the container. (nsenter cannot
 *     do this: after setns into the mount namespace no host binary such as
 *     setpriv can run, and before it a smaller bounding set would forbid
 *     the setns calls themselves.)
 *
 * No allocation after start-up, no threads, no libraries besides libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_TTYS 64
#define MAX_CLIENTS 8
#define MAX_ENV 256
#define EXIT_REBOOT 133

static const char *name = "?";

static void die(const char *what) {
	fprintf(stderr, "containerctl: %s: %s: %s\n", name, what, strerror(errno));
	exit(1);
}

static void fail(const char *msg) {
	fprintf(stderr, "containerctl: %s: %s\n", name, msg);
	exit(1);
}

/* ---- signals ---- */

static int signal_number(const char *s) {
	static const struct { const char *n; int v; } t[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "PWR", SIGPWR },
	};
	if (strncmp(s, "SIG", 3) == 0) s += 3;
	if (strncmp(s, "RTMIN+", 6) == 0) {
		int n = atoi(s + 6);
		return n >= 0 && SIGRTMIN + n <= SIGRTMAX ? SIGRTMIN + n : -1;
	}
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(s, t[i].n) == 0) return t[i].v;
	return -1;
}

/* ---- capabilities ---- */

/* capabilities(7), in number order. The bounding set is shrunk here rather
 * than by setpriv because it must happen after pivot_root (sys_admin may be
 * in the list) and, for exec, after the setns calls. */
static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
	"setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
	"lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
	"wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

static int cap_number(const char *n) {
	if (strncasecmp(n, "cap_", 4) == 0) n += 4;
	for (int i = 0; i < NCAPS; i++)
		if (strcasecmp(n, cap_names[i]) == 0) return i;
	return -1;
}

static void drop_bounding(int cap) {
	/* EINVAL: a capability this kernel does not know, so nothing to drop. */
	if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die("cannot drop a capability from the bounding set");
}

static void close_from_3(void) {
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int i = 3; i < 1024; i++) fcntl(i, F_SETFD, FD_CLOEXEC);
}

/* ---- hold ---- */

struct client { int fd; int console; size_t len; char buf[64]; };

static struct {
	pid_t child;
	int stop_signal;
	double timeout; /* seconds; <0 = infinity */
	int stopping, ready;
	struct timespec deadline;
	int console_master;
	struct client clients[MAX_CLIENTS];
} h;

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return; /* stdout gone (journal restarted): the guest must not notice */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void sd_notify(const char *msg) {
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@')) return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path) return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@') sa.sun_path[0] = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return;
	sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void open_pty(int *master, int *slave, char *path, size_t pathlen) {
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0) die("cannot open /dev/ptmx");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0) die("cannot unlock pty");
	if (ptsname_r(*master, path, pathlen) != 0) die("ptsname");
	/* Holding the slave open keeps the master from reporting EIO/HUP when
	 * the guest has closed its side (between getty respawns, for one). */
	*slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) die("cannot open pty slave");
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	ioctl(*master, TIOCSWINSZ, &ws);
	fcntl(*master, F_SETFL, O_NONBLOCK);
}

static void request_stop(void) {
	if (h.child <= 0) return;
	if (h.stopping || !h.ready) {
		/* A second request, or the guest init is not running yet (the
		 * stage script as PID 1 would not get a signal it has no handler for). */
		kill(h.child, SIGKILL);
		h.stopping = 1;
		return;
	}
	h.stopping = 1;
	kill(h.child, h.stop_signal);
	if (h.timeout >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &h.deadline);
		double whole = floor(h.timeout);
		h.deadline.tv_sec += (time_t)whole;
		h.deadline.tv_nsec += (long)((h.timeout - whole) * 1e9);
		if (h.deadline.tv_nsec >= 1000000000L) {
			h.deadline.tv_sec++;
			h.deadline.tv_nsec -= 1000000000L;
		}
	}
}

static int poll_timeout_ms(void) {
	if (!h.stopping || h.timeout < 0 || h.child <= 0) return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (long long)(h.deadline.tv_sec - now.tv_sec) * 1000 + (h.deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0) return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms + 1;
}

static void console_output(void) {
	char buf[4096];
	for (;;) {
		ssize_t n = read(h.console_master, buf, sizeof buf);
		if (n <= 0) return;
		write_all(STDOUT_FILENO, buf, (size_t)n);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (h.clients[i].fd >= 0 && h.clients[i].console)
				send(h.clients[i].fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL); /* a slow client loses output */
	}
}

static void drop_client(struct client *c) {
	close(c->fd);
	c->fd = -1;
	c->console = 0;
	c->len = 0;
}

static void client_command(struct client *c, const char *cmd) {
	char reply[64];
	if (strcmp(cmd, "pid") == 0) {
		int n = snprintf(reply, sizeof reply, "%d %d\n", (int)getpid(), (int)h.child);
		send(c->fd, reply, (size_t)n, MSG_NOSIGNAL);
		drop_client(c);
	} else if (strcmp(cmd, "stop") == 0) {
		request_stop(); /* the client sees EOF when we exit */
	} else if (strcmp(cmd, "console") == 0) {
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (h.clients[i].fd >= 0 && h.clients[i].console) {
				send(c->fd, "busy\n", 5, MSG_NOSIGNAL);
				drop_client(c);
				return;
			}
		c->console = 1;
		send(c->fd, "ok\n", 3, MSG_NOSIGNAL);
	} else {
		send(c->fd, "unknown command\n", 16, MSG_NOSIGNAL);
		drop_client(c);
	}
}

static void client_input(struct client *c) {
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
	if (n <= 0) {
		drop_client(c);
		return;
	}
	if (c->console) {
		write_all(h.console_master, buf, (size_t)n);
		return;
	}
	for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
		if (buf[i] == '\n') {
			c->buf[c->len] = 0;
			c->len = 0;
			client_command(c, c->buf);
			if (c->console && i + 1 < n) write_all(h.console_master, buf + i + 1, (size_t)(n - i - 1));
			if (c->console) return;
		} else if (c->len + 1 < sizeof c->buf) {
			c->buf[c->len++] = buf[i];
		} else {
			drop_client(c);
		}
	}
}

static int exit_status(int status) {
	if (WIFEXITED(status)) return h.stopping ? 0 : WEXITSTATUS(status);
	int sig = WTERMSIG(status);
	if (sig == SIGHUP) return EXIT_REBOOT;	/* reboot(2) in a pid namespace */
	if (sig == SIGINT) return 0;		/* halt or power-off */
	if (h.stopping) return 0;
	return 128 + sig;
}

/*
 * -x CLEANUP (no systemd to run ExecStopPost=): once the guest is gone, step
 * out of the container's cgroups (start put us in containerctl/NAME of every
 * hierarchy; cleanup removes those and finds them from its own cgroups),
 * drop the control socket (cleanup refuses while it exists), and run it. So
 * a foreground container leaves nothing behind even when whoever started it
 * was killed.
 */
/*
 * One line of /proc/PID/cgroup ("ID:CONTROLLERS:PATH", modified in place):
 * its controllers (empty for the unified hierarchy) and the host directory
 * of PATH in that hierarchy, minus `strip` at its end when given (NULL: the
 * line does not end with it). Returns the controllers, or NULL for a line
 * to skip.
 */
static const char *cgroup_dir(char *line, const char *strip, char *dir, size_t size) {
	char *ctrl = strchr(line, ':'), *cpath = ctrl ? strchr(ctrl + 1, ':') : NULL;
	if (!cpath) return NULL;
	*cpath++ = 0;
	ctrl++;
	if (strip) {
		size_t n = strlen(cpath), sl = strlen(strip);
		if (n < sl || strcmp(cpath + n - sl, strip) != 0) return NULL;
		cpath[n - sl] = 0;
	}
	if (*ctrl == 0)
		snprintf(dir, size, "%s%s", access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup", cpath);
	else
		snprintf(dir, size, "/sys/fs/cgroup/%s%s", strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl, cpath);
	return ctrl;
}

static int host_pidns = -1; /* our own pid namespace, for children made after the guest's is gone */

static void run_cleanup(const char *cleanup, int lfd[2]) {
	char line[PATH_MAX], suffix[300], procs[PATH_MAX + 64];
	snprintf(suffix, sizeof suffix, "/containerctl/%s", name);
	FILE *f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char dir[PATH_MAX];
		if (!cgroup_dir(line, suffix, dir, sizeof dir)) continue;
		snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "0", 1) < 0) { /* cleanup will say what it cannot remove */ }
			close(fd);
		}
	}
	if (f) fclose(f);
	close(lfd[0]);
	close(lfd[1]);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (h.clients[i].fd >= 0) close(h.clients[i].fd);
	/* Children would go to the guest's pid namespace, dead by now (fork: ENOMEM). */
	if (host_pidns >= 0 && setns(host_pidns, CLONE_NEWPID) < 0) return;
	pid_t p = fork();
	if (p == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(cleanup, cleanup, name, (char *)NULL);
		_exit(127);
	}
	if (p > 0) waitpid(p, NULL, 0);
}

/* -S FILE: the exit status as a decimal line, for an init that cannot see it
 * (upstart's post-stop: Restart=on-failure). Not through a symlink. */
static int record_status(const char *file, int code) {
	if (!file) return code;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%d\n", code) < 0) fprintf(stderr, "containerctl: %s: cannot record the exit status in %s: %s\n", name, file, strerror(errno));
	if (fd >= 0) close(fd);
	return code;
}

static int hold(int argc, char **argv) {
	int ttys = 4, opt;
	const char *cleanup = NULL, *status_file = NULL;
	h.stop_signal = SIGTERM;
	h.timeout = 10;
	while ((opt = getopt(argc, argv, "+n:s:t:c:x:S:")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'x': cleanup = optarg; break;
		case 'S': status_file = optarg; break;
		case 's':
			h.stop_signal = signal_number(optarg);
			if (h.stop_signal <= 0) fail("unknown stop signal");
			break;
		case 't':
			if (strcmp(optarg, "infinity") == 0) h.timeout = -1;
			else {
				char *end;
				h.timeout = strtod(optarg, &end);
				if (*end || h.timeout < 0 || !isfinite(h.timeout)) fail("bad stop timeout");
			}
			break;
		case 'c':
			ttys = atoi(optarg);
			if (ttys < 0 || ttys > MAX_TTYS) fail("bad tty count");
			break;
		default: return 2;
		}
	}
	if (optind >= argc) fail("hold: no command");
	for (int i = 0; i < MAX_CLIENTS; i++) h.clients[i].fd = -1;

	/* Our parent (sh in the foreground, systemd otherwise) going away is a stop request. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	/* A background job of a non-interactive sh starts with SIGINT ignored:
	 * reset every disposition, then take the ones we handle via signalfd. */
	for (int s = 1; s < _NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
	sigset_t mask, old;
	sigemptyset(&mask);
	int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPWR, SIGRTMIN + 3 };
	for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) sigaddset(&mask, handled[i]);
	/* A closed stdout (journal restarted, `| head`) must not stop the guest:
	 * writes then fail with EPIPE, and console output is dropped. */
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &mask, &old);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) die("signalfd");

	/* The abstract socket is the "is it running" lock: it vanishes with us.
	 * Bound twice: under the exact name, and zero-padded to the whole of
	 * sun_path, which is what Node 20's net.connect asks for. */
	int lfd[2];
	for (int i = 0; i < 2; i++) {
		lfd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (lfd[i] < 0) die("socket");
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int alen = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "containerctl/%s", name);
		if (alen < 0 || (size_t)alen >= sizeof sa.sun_path - 1) fail("name too long");
		socklen_t sl = i == 0 ? (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)alen) : (socklen_t)sizeof sa;
		if (bind(lfd[i], (struct sockaddr *)&sa, sl) < 0) {
			if (errno == EADDRINUSE) fail("already running");
			die("bind control socket");
		}
		if (listen(lfd[i], 4) < 0) die("listen");
	}

	char path[64], ttylist[MAX_TTYS * 24 + 1] = "";
	int slave, tty_master[MAX_TTYS], tty_slave[MAX_TTYS];
	open_pty(&h.console_master, &slave, path, sizeof path);
	setenv("CONTAINERCTL_CONSOLE", path, 1);
	for (int i = 0; i < ttys; i++) {
		char p[64];
		open_pty(&tty_master[i], &tty_slave[i], p, sizeof p);
		if (i) strcat(ttylist, " ");
		strcat(ttylist, p);
	}
	setenv("CONTAINERCTL_TTYS", ttylist, 1);

	/* The ready pipe: the child holds the write end as fd 3 until the
	 * guest init is exec'd (enter marks it close-on-exec). */
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) die("pipe");

	host_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWPID) < 0) die("cannot create pid namespace");
	h.child = fork();
	if (h.child < 0) die("fork");
	if (h.child == 0) {
		/* getppid() is 0 in the new namespace, so the usual race check
		 * cannot be made; the window between fork and prctl is tiny. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		if (dup2(rp[1], 3) < 0) _exit(1);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "containerctl: %s: cannot execute %s: %s\n", name, argv[optind], strerror(errno));
		_exit(127);
	}
	close(rp[1]);

	struct pollfd pfd[5 + MAX_CLIENTS];
	for (;;) {
		int n = 0;
		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = h.console_master, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = rp[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd[1], .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){ .fd = h.clients[i].fd, .events = POLLIN };
		int r = poll(pfd, (nfds_t)n, poll_timeout_ms());
		if (r < 0 && errno != EINTR) die("poll");
		if (h.stopping && h.child > 0 && poll_timeout_ms() == 0) {
			fprintf(stderr, "containerctl: %s: stop timeout reached, killing the guest\n", name);
			kill(h.child, SIGKILL);
			h.timeout = -1;
		}
		if (r <= 0) continue;
		if (pfd[1].revents) console_output();
		if (pfd[2].revents) {
			char b;
			if (read(rp[0], &b, 1) <= 0) {
				close(rp[0]);
				rp[0] = -1;
				/* EOF: init was exec'd, or the stage died (then SIGCHLD follows). */
				siginfo_t si = { 0 };
				waitid(P_PID, (id_t)h.child, &si, WEXITED | WNOHANG | WNOWAIT);
				if (si.si_pid == 0) {
					h.ready = 1;
					sd_notify("READY=1\nSTATUS=running");
				}
				if (h.stopping) { h.stopping = 0; request_stop(); }
			}
		}
		for (int l = 3; l <= 4; l++) {
			if (!pfd[l].revents) continue;
			int c = accept4(pfd[l].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				struct ucred cred;
				socklen_t cl = sizeof cred;
				int slot = -1;
				for (int i = 0; i < MAX_CLIENTS; i++)
					if (h.clients[i].fd < 0) { slot = i; break; }
				if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != 0 || slot < 0) close(c);
				else h.clients[slot] = (struct client){ .fd = c };
			}
		}
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (pfd[5 + i].revents && h.clients[i].fd >= 0) client_input(&h.clients[i]);
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) == sizeof si) {
				if ((int)si.ssi_signo != SIGCHLD) {
					request_stop();
					continue;
				}
				int status;
				pid_t p;
				while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
					if (p != h.child) continue;
					console_output(); /* the last words of the guest */
					if (cleanup) run_cleanup(cleanup, lfd);
					return record_status(status_file, exit_status(status));
				}
			}
		}
	}
}

/* ---- enter ---- */

/* The nodes and links of a fresh /dev (the stage mounted the tmpfs and
 * bound console and ttys). mknod here costs microseconds; a cp would cost a
 * program start. */
static void populate_dev(void) {
	static const struct { const char *path; unsigned maj, min; } nodes[] = {
		{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	static const struct { const char *target, *path; } links[] = {
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
	};
	mode_t old = umask(0);
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		if (mknod(nodes[i].path, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0 && errno != EEXIST) die("mknod in /dev");
	umask(old);
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlink(links[i].target, links[i].path) < 0 && errno != EEXIST) die("symlink in /dev");
}

static int enter(int argc, char **argv) {
	static char *env[MAX_ENV + 8], *args[MAX_ENV + 2];
	int nenv = 0, nargs = 1, opt;
	int caps[64], ncaps = 0, nunlink = 0;
	const char *unlinks[8], *scratch = NULL;
	static char cname[300];
	while ((opt = getopt(argc, argv, "+n:d:e:a:u:m:")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'm': scratch = optarg; break;
		case 'u':
			if (nunlink == 8) fail("too many files to remove");
			unlinks[nunlink++] = optarg;
			break;
		case 'd':
			if (ncaps == 64) fail("too many capabilities");
			caps[ncaps] = cap_number(optarg);
			if (caps[ncaps] < 0) {
				fprintf(stderr, "containerctl: %s: unknown capability '%s'\n", name, optarg);
				exit(1);
			}
			ncaps++;
			break;
		case 'e':
			if (nenv == MAX_ENV) fail("too many environment entries");
			env[nenv++] = optarg;
			break;
		case 'a':
			if (nargs == MAX_ENV) fail("too many init arguments");
			args[nargs++] = optarg;
			break;
		default: return 2;
		}
	}
	if (argc - optind != 2) fail("usage: enter [options] ROOT INIT");
	const char *root = argv[optind], *init = argv[optind + 1];
	args[0] = (char *)init;
	args[nargs] = NULL;
	snprintf(cname, sizeof cname, "container_name=%s", name);
	env[nenv++] = "container=containerctl";
	env[nenv++] = cname;
	int have_path = 0, have_term = 0;
	for (int i = 0; i < nenv; i++) {
		if (strncmp(env[i], "PATH=", 5) == 0) have_path = 1;
		if (strncmp(env[i], "TERM=", 5) == 0) have_term = 1;
	}
	if (!have_path) env[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (!have_term) env[nenv++] = "TERM=linux";
	env[nenv] = NULL;

	/* pivot_root(".", "."): the old root ends up stacked on "."; unmounting
	 * "." detaches it, so no .oldroot directory is needed in the guest. */
	if (chdir(root) < 0) die("cannot enter root");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("cannot make mounts private");
	if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0) die("cannot detach the old root");
	if (chdir("/") < 0) die("chdir /");
	/* The stage's scratch files on the new /dev (mounts made from them stay). */
	for (int i = 0; i < nunlink; i++)
		if (unlink(unlinks[i]) < 0 && errno != ENOENT) die("cannot remove a scratch file");
	/* The shim's tmpfs: its binds and the overlay keep their own references. */
	if (scratch && (umount2(scratch, MNT_DETACH) < 0 || rmdir(scratch) < 0)) die("cannot remove the shim's scratch mount");
	populate_dev();

	for (int i = 0; i < ncaps; i++) drop_bounding(caps[i]);

	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0) fd = open("/dev/null", O_RDWR);
	if (fd < 0) die("cannot open /dev/console");
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0) die("dup2");
	if (fd > 2) close(fd);
	/* Nothing of the host's reaches the guest; fd 3 (the ready pipe)
	 * closes exactly when init is exec'd. */
	close_from_3();
	execve(init, args, env);
	fprintf(stderr, "containerctl: %s: cannot execute %s: %s\n", name, init, strerror(errno));
	return 127;
}

/* ---- execin: a command inside a running container ---- */

static int execin(int argc, char **argv) {
	if (argc < 4 || strcmp(argv[2], "--") != 0) fail("usage: execin PID -- COMMAND...");
	int pid = atoi(argv[1]);
	char p[64], line[256];
	unsigned long long bnd = 0;
	int found = 0;
	snprintf(p, sizeof p, "/proc/%d/status", pid);
	FILE *f = fopen(p, "re");
	if (!f) die("cannot read the guest init's status");
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapBnd: %llx", &bnd) == 1) found = 1;
	fclose(f);
	if (!found) fail("no CapBnd in the guest init's status");
	/* Join the guest init's cgroups first (host paths): its device policy
	 * and limits then hold for the command as well. Best effort per
	 * hierarchy: one we may not write to is left as it is. */
	snprintf(p, sizeof p, "/proc/%d/cgroup", pid);
	f = fopen(p, "re");
	if (!f) die("cannot read the guest init's cgroups");
	char cg[PATH_MAX], procs[PATH_MAX + 64];
	while (fgets(cg, sizeof cg, f)) {
		cg[strcspn(cg, "\n")] = 0;
		char dir[PATH_MAX];
		const char *ctrl = cgroup_dir(cg, NULL, dir, sizeof dir);
		if (!ctrl) continue;
		snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
		int cfd = open(procs, O_WRONLY | O_CLOEXEC);
		if (cfd >= 0) {
			if (write(cfd, "0", 1) < 0 && strcmp(ctrl, "devices") == 0) die("cannot join the guest's devices cgroup");
			close(cfd);
		} else if (strcmp(ctrl, "devices") == 0) die("cannot join the guest's devices cgroup");
	}
	fclose(f);
	/* Open all first: after entering the mount namespace /proc is the guest's. */
	static const char *const types[] = { "cgroup", "ipc", "uts", "net", "pid", "mnt" };
	int fds[6];
	for (int i = 0; i < 6; i++) {
		snprintf(p, sizeof p, "/proc/%d/ns/%s", pid, types[i]);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) die("cannot open the guest's namespaces");
	}
	for (int i = 0; i < 6; i++) {
		if (setns(fds[i], 0) < 0) die("cannot enter the guest's namespaces");
		close(fds[i]);
	}
	/* setns(mnt) made the guest's / our root and cwd; say so explicitly. */
	if (chdir("/") < 0) die("chdir /");
	/* On a terminal the command gets a pty of its own, relayed by us, not
	 * the caller's terminal (which it could push input into with TIOCSTI).
	 * From the guest's devpts (we are in its mount namespace now), so its
	 * /dev/pts/N names it inside. */
	int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	int pm = -1, ps = -1;
	struct termios saved;
	if (tty) {
		char pts[64];
		open_pty(&pm, &ps, pts, sizeof pts);
		if (tcgetattr(STDIN_FILENO, &saved) == 0) tcsetattr(ps, TCSANOW, &saved);
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(pm, TIOCSWINSZ, &ws);
	}
	/* Block before fork: a command that exits at once must not have its
	 * SIGCHLD discarded before we wait for it. */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, &old);
	pid_t child = fork(); /* the pid namespace applies to children only */
	if (child < 0) die("fork");
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (tty) {
			setsid();
			if (ioctl(ps, TIOCSCTTY, 0) < 0) die("cannot make the pty the controlling terminal");
			for (int i = 0; i < 3; i++) dup2(ps, i);
		}
		for (int c = 0; c < 64; c++)
			if (!(bnd & (1ULL << c))) drop_bounding(c);
		close_from_3();
		execvp(argv[3], argv + 3);
		fprintf(stderr, "containerctl: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	/* The terminal's signals reach the command by itself (through its pty,
	 * or directly when there is none); TERM and HUP are passed on. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) die("signalfd");
	if (tty) {
		close(ps);
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	int in_open = tty;
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = pm, .events = POLLIN },
		};
		if (poll(pfd, 3, -1) < 0 && errno != EINTR) die("poll");
		char buf[4096];
		if (pfd[2].revents) {
			ssize_t n = read(pm, buf, sizeof buf);
			if (n > 0) write_all(STDOUT_FILENO, buf, (size_t)n);
			else if (n < 0 && errno != EAGAIN && errno != EINTR) { close(pm); pm = -1; } /* EIO: the command closed it */
		}
		if (pfd[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
			if (n > 0 && pm >= 0) write_all(pm, buf, (size_t)n);
			else if (n <= 0) in_open = 0;
		}
		if (!pfd[0].revents) continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != sizeof si) continue;
		if (si.ssi_signo == SIGWINCH) {
			struct winsize ws;
			if (pm >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(pm, TIOCSWINSZ, &ws);
			continue;
		}
		if (si.ssi_signo != SIGCHLD) {
			kill(child, (int)si.ssi_signo);
			continue;
		}
		int status;
		if (waitpid(child, &status, WNOHANG) != child) continue;
		if (pm >= 0) { /* what it wrote last */
			ssize_t n;
			while ((n = read(pm, buf, sizeof buf)) > 0) write_all(STDOUT_FILENO, buf, (size_t)n);
		}
		if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		if (WIFEXITED(status)) return WEXITSTATUS(status);
		return 128 + WTERMSIG(status);
	}
}

int main(int argc, char **argv) {
	if (argc >= 2 && strcmp(argv[1], "execin") == 0) return execin(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "hold") == 0) return hold(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "enter") == 0) return enter(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s hold|enter|execin ... (see docs/runtime.md)\n", argv[0]);
	return 2;
}
