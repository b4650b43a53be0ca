# U-Boot boot script for Ubuntu Core 20 and later (snapd's "u-boot" bootloader). mkimage turns
# it into boot.scr at build time; U-Boot's distro boot finds boot.scr on ubuntu-seed, the first
# partition. snapd keeps its state in two environment files named boot.sel: on ubuntu-seed
# (snapd_recovery_mode, snapd_recovery_system) and on ubuntu-boot (kernel_status, snap_kernel,
# snap_try_kernel). U-Boot must be built with CONFIG_SYS_REDUNDAND_ENVIRONMENT=y, because
# snapd writes boot.sel with the redundant-environment header (CRC and a flags byte).

setenv snap_console ttyS2,1500000n8
setenv seed_part ${distro_bootpart}
setexpr boot_part ${seed_part} + 1

# Which mode snapd asked for: run, install or recover.
load ${devtype} ${devnum}:${seed_part} ${scriptaddr} /uboot/ubuntu/boot.sel
env import -c ${scriptaddr} 0x1000 snapd_recovery_mode snapd_recovery_system
test -n "${snapd_recovery_mode}" || setenv snapd_recovery_mode install

if test "${snapd_recovery_mode}" = "run"; then
  load ${devtype} ${devnum}:${boot_part} ${scriptaddr} /uboot/ubuntu/boot.sel
  env import -c ${scriptaddr} 0x1000 kernel_status snap_kernel snap_try_kernel
  if test "${kernel_status}" = "try"; then
    # A new kernel: try it once. snapd resets kernel_status when it comes up.
    setenv kernel_status trying
    env export -c -s 0x1000 ${scriptaddr} kernel_status snap_kernel snap_try_kernel
    save ${devtype} ${devnum}:${boot_part} ${scriptaddr} /uboot/ubuntu/boot.sel 0x1000
    test -n "${snap_try_kernel}" && setenv snap_kernel "${snap_try_kernel}"
  elif test "${kernel_status}" = "trying"; then
    # The try boot did not come up: back to the kernel that worked.
    setenv kernel_status
    env export -c -s 0x1000 ${scriptaddr} kernel_status snap_kernel snap_try_kernel
    save ${devtype} ${devnum}:${boot_part} ${scriptaddr} /uboot/ubuntu/boot.sel 0x1000
  fi
  setenv kernel_part ${boot_part}
  setenv kernel_dir /uboot/ubuntu/${snap_kernel}
  setenv bootargs "snapd_recovery_mode=run console=${snap_console} panic=-1"
else
  setenv kernel_part ${seed_part}
  setenv kernel_dir /systems/${snapd_recovery_system}/kernel
  setenv bootargs "snapd_recovery_mode=${snapd_recovery_mode} snapd_recovery_system=${snapd_recovery_system} console=${snap_console} panic=-1"
fi

load ${devtype} ${devnum}:${kernel_part} ${kernel_addr_r} ${kernel_dir}/kernel.img
load ${devtype} ${devnum}:${kernel_part} ${fdt_addr_r} ${kernel_dir}/dtbs/${fdtfile}
load ${devtype} ${devnum}:${kernel_part} ${ramdisk_addr_r} ${kernel_dir}/initrd.img
booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr_r}
