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
};

#define NMODES ((int)(sizeof modes / sizeof modes[0]))

int
main(int argc, char *argv[])
{
  for (int i = 0; argc == 2 && i < NMODES; i++) {
    if (strcmp(argv[1], modes[i].name) == 0) {
      modes[i].fn();
      printf("crash: survived\n");
      return 1;
    }
  }
  fprintf(2, "usage: crash MODE\n");
  for (int i = 0; i < NMODES; i++)
    fprintf(2, "  %-10s %s\n", modes[i].name, modes[i].help);
  return 2;
}
