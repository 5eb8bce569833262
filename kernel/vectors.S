# The 256 interrupt entry points. Each pushes an error code of 0 (unless the
# CPU pushes one for that vector) and its vector number, then joins alltraps.
# `vectors` is the table of their addresses that tvinit() puts in the IDT.

.altmacro

.macro vector n
  .globl vector\n
vector\n:
  .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
  .else
    pushl $0
  .endif
  pushl $\n
  jmp alltraps
.endm

.macro vecaddr n
  .long vector\n
.endm

.text
.set i, 0
.rept 256
  vector %i
  .set i, i + 1
.endr

.data
.globl vectors
vectors:
.set i, 0
.rept 256
  vecaddr %i
  .set i, i + 1
.endr
