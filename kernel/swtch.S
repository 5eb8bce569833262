# void swtch(struct context **old, struct context *new);
#
# Save the callee-saved registers on the current stack, store the stack
# pointer (which now points at a struct context) into *old, switch to new's
# stack and restore its registers. The return address is the %eip field.

.globl swtch
swtch:
  movl 4(%esp), %eax
  movl 8(%esp), %edx

  pushl %ebp
  pushl %ebx
  pushl %esi
  pushl %edi

  movl %esp, (%eax)
  movl %edx, %esp

  popl %edi
  popl %esi
  popl %ebx
  popl %ebp
  ret

# void stackrun(char *top, void (*fn)(void));
#
# Go on with fn on the stack that ends at top, for good: the old stack is
# abandoned (a CPU leaving its boot stack for its guarded scheduler stack).
# A zero return address and %ebp end backtraces there.

.globl stackrun
stackrun:
  movl 4(%esp), %eax
  movl 8(%esp), %ecx
  movl %eax, %esp
  xorl %ebp, %ebp
  pushl $0
  jmp *%ecx
