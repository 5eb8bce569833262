// crash MODE: do something the kernel must kill us for. If we are still
// alive afterwards, say so and exit 1. Used by usertests and by hand.
#include "kernel/types.h"
#include "kernel/syscall.h"
#include "user/user.h"

// volatile: the compiler may neither fold the division nor replace it by
// a comparison (it turns 1/x into one, since only x = 1 or -1 give non-0).
static volatile int zero, hundred = 100;

static void
null(void)
{
  *(volatile int *)0 = 1;
}

static void
jump0(void)
{
  void (*volatile fn)(void) = 0;
  fn();
}

static void
kernelread(void)
{
  (void)*(volatile int *)0x80100000;
}

static void
kernelwrite(void)
{
  *(volatile int *)0x80100000 = 0;
}

static void
divide(void)
{
  zero = hundred / zero;
}

static void
undefined(void)
{
  asm volatile("ud2");
}

static void
privileged(void)
{
  asm volatile("cli");   // needs IOPL 0: a general protection fault
}

// Recurse forever; every frame writes 1 KiB so the guard page below the
// user stack is soon reached. The call is not a tail call (the result is
// used), so the optimizer cannot turn it into a loop.
static int __attribute__((noinline))
recurse(volatile char *prev)
{
  volatile char pad[1024];
  pad[0] = prev[0] + 1;
  pad[sizeof pad - 1] = pad[0];
  if (zero == 0)
    return recurse(pad) + pad[1];
  return pad[0];
}

static void
stack(void)
{
  char first = 0;
  recurse(&first);
}

// A system call whose stack pointer is in kernel memory: the kernel must
// fail to fetch the arguments without harm, and the ret that follows then
// faults on the bad stack.
static void
syscallbad(void)
{
  asm volatile("movl $0x80000000, %%esp\n\t"
               "movl %0, %%eax\n\t"
               "int $64\n\t"
               "ret"
               : : "i"(SYS_write) : "eax", "memory");
}

// sysenter with the stack and the return address both in kernel memory: the
// kernel fails to fetch the arguments, sysexit "returns" to 0x80100000 in
// user mode, and that faults.
static void
sysenterbad(void)
{
  asm volatile("movl $0x80100000, %%edx\n\t"
               "movl $0x80000000, %%ecx\n\t"
               "movl %0, %%eax\n\t"
               "sysenter"
               : : "i"(SYS_write) : "eax", "ecx", "edx", "memory");
}

// sysenter with the trap flag set: the single-step trap lands on the
// kernel's first instruction, which the kernel must survive (it clears TF).
static void
sysentertf(void)
{
  int pid;
  asm volatile("movl $1f, %%edx\n\t"
               "pushfl\n\t"
               "orl $0x100, (%%esp)\n\t"   // TF: traps after the instruction after popfl
               "movl %%esp, %%ecx\n\t"
               "addl $4, %%ecx\n\t"        // the stack as it will be after popfl
               "popfl\n\t"
               "sysenter\n"
               "1:\n\t"
               "pushfl\n\t"
               "andl $~0x100, (%%esp)\n\t"
               "popfl"
               : "=a"(pid) : "a"(SYS_getpid) : "ecx", "edx", "memory");
  printf("crash: getpid %s\n", pid == getpid() ? "ok" : "wrong");
}

// A system call with the direction flag (which string instructions follow)
// and the nested-task flag set: the kernel must not copy backwards or iret
// into a task switch. Entered by int $64 and by sysenter.
static char flagsmsg[] = "crash: copied forwards\n";

// write(1, flagsmsg, ...) entered by ENTRY with NT and DF set, then cleared:
// the arguments and a dummy return address go on the stack as for a stub.
#define FLAGSCALL(ENTRY, r, args, ...)                                    \
  asm volatile("pushl 8(%2)\n\t"                                         \
               "pushl 4(%2)\n\t"                                         \
               "pushl 0(%2)\n\t"                                         \
               "pushl $0\n\t"                                            \
               "pushfl\n\t"                                              \
               "orl $0x4400, (%%esp)\n\t"   /* NT | DF */                \
               "popfl\n\t"                                               \
               ENTRY                                                     \
               "cld\n\t"                                                 \
               "pushfl\n\t"                                              \
               "andl $~0x4000, (%%esp)\n\t"                              \
               "popfl\n\t"                                               \
               "addl $16, %%esp"                                         \
               : "=a"(r) : "a"(SYS_write), "b"(args) : "memory", "cc", ##__VA_ARGS__)

static void
flagscall(int use_sysenter)
{
  int r;
  uint args[3] = { 1, (uint)flagsmsg, sizeof flagsmsg - 1 };
  if (use_sysenter)
    FLAGSCALL("movl %%esp, %%ecx\n\tmovl $1f, %%edx\n\tsysenter\n1:\n\t", r, args,
              "ecx", "edx");
  else
    FLAGSCALL("int $64\n\t", r, args);
  if (r != (int)sizeof flagsmsg - 1)
    printf("crash: write returned %d\n", r);
}

static void
sysenterflags(void)
{
  flagscall(1);
  flagscall(0);
}

static const struct {
  const char *name;
  void (*fn)(void);
  const char *help;
} modes[] = {
  { "null",       null,        "write to address 0" },
  { "jump0",      jump0,       "call address 0" },
  { "kernel",     kernelread,  "read kernel memory (0x80100000)" },
  { "kwrite",     kernelwrite, "write kernel memory (0x80100000)" },
  { "div",        divide,      "divide by zero" },
  { "ud",         undefined,   "invalid opcode (ud2)" },
  { "priv",       privileged,  "privileged instruction (cli)" },
  { "stack",      stack,       "overflow the user stack" },
  { "syscallbad", syscallbad,  "system call with %esp in kernel memory" },
  { "sysenterbad", sysenterbad, "sysenter with stack and return address in kernel memory" },
  { "sysentertf", sysentertf,  "sysenter with the trap flag set (survives)" },
  { "flags",      sysenterflags, "system calls with DF and NT set (survives)" },
};

#define NMODES ((int)(sizeof modes / sizeof modes[0]))

// The usage, with every mode and what it does.
static char usage[1024];

static void
makeusage(void)
{
  int n = snprintf(usage, sizeof usage, "usage: crash MODE\n");
  for (int i = 0; i < NMODES && n < (int)sizeof usage; i++)
    n += snprintf(usage + n, sizeof usage - n, "  %-12s %s\n", modes[i].name, modes[i].help);
}

int
main(int argc, char *argv[])
{
  makeusage();
  argsinit("crash", usage);
  while (getopt(argc, argv, "") != -1)
    ;
  if (optind == argc)
    argmissing("mode");
  if (optind + 1 < argc)
    argextra(argv[optind + 1]);
  for (int i = 0; i < NMODES; i++) {
    if (strcmp(argv[optind], modes[i].name) == 0) {
      modes[i].fn();
      printf("crash: survived\n");
      return 1;
    }
  }
  argbad(0, "mode", argv[optind], "no such mode");
}
