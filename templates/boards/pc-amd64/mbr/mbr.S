# Boot code for the 440 bytes before the partition table of a UEFI-only disk: a legacy BIOS that
# starts it gets a message instead of a hang. Build: as --32 mbr.S -o mbr.o &&
# ld -m elf_i386 -Ttext 0x7c00 --oformat binary mbr.o -o mbr.bin, then pad to 440 bytes.
        .code16
        .text
        .globl _start
_start:
        ljmp    $0, $normalised         # some BIOSes enter at 07c0:0000
normalised:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        cld
        movw    $message, %si
print:
        lodsb
        testb   %al, %al
        jz      halt
        movb    $0x0e, %ah              # teletype output
        movw    $0x0007, %bx            # page 0, light grey
        int     $0x10
        jmp     print
halt:
        cli
        hlt
        jmp     halt
message:
        .asciz  "This disk boots with UEFI only. Enable UEFI boot in the firmware setup.\r\n"
