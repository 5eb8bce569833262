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
