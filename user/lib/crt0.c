// Program entry. exec leaves the stack as for a C call to
// _start(argc, argv), with a fake return address that must never be used,
// so _start hands main's result straight to exit.
#include "kernel/types.h"
#include "user/user.h"

int main(int argc, char *argv[]);

void _start(int argc, char *argv[]) __attribute__((noreturn));

void
_start(int argc, char *argv[])
{
  exit(main(argc, argv));
}
