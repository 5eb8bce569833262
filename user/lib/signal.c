// signal() and sigaction(): the kernel's sigaction with the restorer filled
// in, so that a handler returns through sigreturn (user/lib/usig.S).
#include "kernel/types.h"
#include "kernel/signal.h"
#include "user/user.h"

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
void __sigrestore(void);

int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
  struct sigaction sa;
  if (act == 0)
    return __sigaction(sig, 0, old);
  sa = *act;
  sa.sa_flags |= SA_RESTORER;
  sa.sa_restorer = __sigrestore;
  return __sigaction(sig, &sa, old);
}

sighandler_t
signal(int sig, sighandler_t handler)
{
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  if (sigaction(sig, &sa, &old) < 0)
    return SIG_ERR;
  return old.sa_handler;
}

// The names kill -l and the shell's messages use, as Linux's.
static const char *const signames[NSIG] = {
  [SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGKILL] = "KILL",
  [SIGUSR1] = "USR1", [SIGUSR2] = "USR2", [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",
  [SIGTERM] = "TERM", [SIGCHLD] = "CHLD",
};

const char *
signame(int sig)
{
  return sig > 0 && sig < NSIG ? signames[sig] : 0;
}

// "INT", "SIGINT" or "2" -> 2; -1 if none.
int
signum(const char *s)
{
  if (strncmp(s, "SIG", 3) == 0)
    s += 3;
  if (isdigit(*s)) {
    char *end;
    uint n = strtoul(s, &end, 10);
    return *end == 0 && n < NSIG ? (int)n : -1;
  }
  for (int sig = 1; sig < NSIG; sig++)
    if (signames[sig] && strcmp(s, signames[sig]) == 0)
      return sig;
  return -1;
}
