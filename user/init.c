// init: the first user process. Sets up the console as fds 0, 1 and 2,
// configures the network by DHCP when the kernel command line says
// ip=dhcp (as Linux reads it), runs the shell, starts a new one whenever it
// exits, and reaps the orphans that the kernel hands to init.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define CONSOLE "/dev/console"

static char *shargv[] = { "sh", 0 };

static void
openconsole(void)
{
  if (open(CONSOLE, O_RDWR) != 0) {
    // Nowhere to report to: exiting makes the kernel's complaint visible.
    exit(1);
  }
  dup(0);   // stdout
  dup(0);   // stderr
}

// The interface that ip=dhcp or ip=::::::dhcp (Linux's ip=
// <client>:<server>:<gw>:<netmask>:<host>:<device>:<autoconf>) asks to
// configure by DHCP, into ifname; 0 if the command line does not ask.
static int
dhcpinterface(char *ifname, int max)
{
  char line[256], tok[128], *field[7];
  int fd = open("/proc/cmdline", O_RDONLY), n, nf = 0;

  if (fd < 0)
    return 0;
  n = read(fd, line, sizeof line - 1);
  close(fd);
  line[n > 0 ? n : 0] = 0;
  // The last ip= wins, as in Linux.
  tok[0] = 0;
  for (char *p = line; *p; p++) {
    if ((p == line || p[-1] == ' ') && strncmp(p, "ip=", 3) == 0) {
      int len = 0;
      for (p += 3; *p && *p != ' ' && *p != '\n' && len < (int)sizeof tok - 1; p++)
        tok[len++] = *p;
      tok[len] = 0;
      if (*p == 0)
        break;
    }
  }
  field[nf++] = tok;
  for (char *q = tok; *q; q++) {
    if (*q == ':' && nf < 7) {
      *q = 0;
      field[nf++] = q + 1;
    }
  }
  if (nf == 1 && strcmp(tok, "dhcp") == 0) {
    strlcpy(ifname, "eth0", max);
    return 1;
  }
  if (nf == 7 && strcmp(field[6], "dhcp") == 0) {
    strlcpy(ifname, field[5][0] ? field[5] : "eth0", max);
    return 1;
  }
  return 0;
}

// Run dhclient for ifname and wait until it has a lease (or gives up and
// goes on trying in the background).
static void
dhcp(const char *ifname)
{
  char *argv[] = { "dhclient", (char *)ifname, 0 };
  int pid = fork();
  if (pid == 0) {
    exec("/bin/dhclient", argv);
    fprintf(2, "init: exec /bin/dhclient: %s\n", strerror(errno));
    exit(127);
  }
  if (pid > 0)
    while (wait(0) != pid)
      ;
}

// Starts a shell and returns its pid, retrying while fork fails (the
// process table may be full for a moment).
static int
startsh(void)
{
  for (;;) {
    printf("init: starting sh\n");
    int pid = fork();
    if (pid == 0) {
      exec("/bin/sh", shargv);
      fprintf(2, "init: exec /bin/sh: %s\n", strerror(errno));
      exit(127);
    }
    if (pid > 0)
      return pid;
    fprintf(2, "init: fork: %s\n", strerror(errno));
    sleep(100);
  }
}

// Waits until the shell pid exits, reaping any orphan on the way. Returns
// the shell's exit status.
static int
waitsh(int shpid)
{
  for (;;) {
    int status;
    int pid = wait(&status);
    if (pid == shpid)
      return status;
    if (pid < 0)   // no children at all: the shell is gone somehow
      return -1;
  }
}

static const char usage[] =
  "usage: init\n"
  "  the first process: the kernel starts it; it runs dhclient for ip=dhcp,\n"
  "  then sh on the console\n";

int
main(int argc, char *argv[])
{
  char ifname[16];

  argsinit("init", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind < argc)
    argextra(argv[optind]);
  if (getpid() != 1) {
    fprintf(2, "init: only the kernel starts init (as process 1); this is process %d\n",
            getpid());
    return 1;
  }
  openconsole();
  if (dhcpinterface(ifname, sizeof ifname))
    dhcp(ifname);
  for (;;) {
    int start = uptime();
    int status = waitsh(startsh());
    // A shell that cannot run at all (exec failed: 127, or it crashed:
    // -1) would otherwise make us restart it in a tight loop.
    if ((status == 127 || status == -1) && uptime() - start < 100)
      sleep(100);
  }
}
