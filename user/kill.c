// kill [-s SIGNAL | -SIGNAL] PID...: send a signal (default TERM) to each
// process; a negative PID is a process group (write "--" before it when no
// signal is given, as with Linux's kill). kill -l lists the signal names.
#include "kernel/types.h"
#include "user/user.h"

static const char usage[] =
  "usage: kill [-s SIGNAL | -SIGNAL] PID...\n"
  "       kill -l [SIGNAL]\n"
  "  send SIGNAL (a name like INT or TERM, or a number; default TERM) to\n"
  "  each PID; a negative PID is a process group (-- before it)\n";

static int
argsignal(const char *opt, const char *s)
{
  int sig = signum(s);
  if (sig < 0)
    argbad(opt, "signal", s, "no such signal (kill -l lists them)");
  return sig;
}

static int
list(int argc, char **argv)
{
  if (argc > 3)
    argextra(argv[3]);
  if (argc == 3) {
    int sig = argsignal(0, argv[2]);
    if (isdigit(argv[2][0]) && signame(sig))
      printf("%s\n", signame(sig));
    else
      printf("%d\n", sig);
    return 0;
  }
  for (int sig = 1; sig < NSIG; sig++)
    if (signame(sig))
      printf("%2d) SIG%s\n", sig, signame(sig));
  return 0;
}

int
main(int argc, char *argv[])
{
  int sig = SIGTERM, i = 1, status = 0;

  argsinit("kill", usage);
  arghelp(argc, argv);
  if (argc > 1 && strcmp(argv[1], "-l") == 0)
    return list(argc, argv);
  if (i < argc && strcmp(argv[i], "-s") == 0) {
    if (i + 1 >= argc)
      argmissing("signal after -s");
    sig = argsignal("-s", argv[i + 1]);
    i += 2;
  } else if (i < argc && argv[i][0] == '-' && argv[i][1] && argv[i][1] != '-') {
    sig = argsignal(0, argv[i] + 1);
    i++;
  }
  if (i < argc && strcmp(argv[i], "--") == 0)
    i++;
  if (i == argc)
    argmissing("process id");
  for (; i < argc; i++) {
    int pid = argnum(0, "process id", argv[i], -0x7fffffff, 0x7fffffff);
    if (pid == 0 || pid == -1)
      argbad(0, "process id", argv[i], "0 and -1 would signal more than meant here");
    if (kill(pid, sig) < 0) {
      fprintf(2, "kill: (%d): %s\n", pid, strerror(errno));
      status = 1;
    }
  }
  return status;
}
