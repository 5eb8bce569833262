// Signals and job control: the ABI shared by the kernel and user programs.
// Numbers, struct sigaction's layout (i386 "old_sigaction") and the wait
// option follow Linux's, so that programs and messages read the same.
#ifndef XV6NET_SIGNAL_H
#define XV6NET_SIGNAL_H
#include "kernel/types.h"

#define NSIG     32   // signals are 1..NSIG-1; 0 only tests that a target exists

#define SIGHUP    1
#define SIGINT    2   // ^C on the console, to its foreground process group
#define SIGQUIT   3   // ^\ on the console
#define SIGKILL   9   // cannot be caught or ignored
#define SIGUSR1  10
#define SIGUSR2  12
#define SIGPIPE  13
#define SIGALRM  14
#define SIGTERM  15
#define SIGCHLD  17   // default: ignored (the kernel does not send it yet)

typedef void (*sighandler_t)(int);
#define SIG_DFL ((sighandler_t)0)
#define SIG_IGN ((sighandler_t)1)
#define SIG_ERR ((sighandler_t)-1)

// sa_flags. SA_RESTORER says sa_restorer is set: the code a handler returns
// to, which must call sigreturn. It is required for a handler; the user
// library's sigaction() supplies it. Other flags are refused (EINVAL).
#define SA_RESTORER 0x04000000

struct sigaction {
  sighandler_t sa_handler;
  uint sa_mask;               // more signals blocked while the handler runs
  int sa_flags;
  void (*sa_restorer)(void);
};

#define SIGBIT(sig) (1u << (sig))

// waitpid() options
#define WNOHANG 1

// A process that a signal ended reports exit status 128 + the signal number
// to wait(), as a shell shows it in $?; one killed by the kernel for a fault
// reports -1.
#define SIGSTATUS(sig) (128 + (sig))

#endif
