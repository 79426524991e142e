# SPDX-License-Identifier: GPL-2.0
# Read by cpack: the Debian package installs under /usr, so the paths compiled
# into the daemon and written into its man pages must be /usr's too.
if(NOT CPACK_BPFUSE_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "the Debian package needs a build configured with "
    "-DCMAKE_INSTALL_PREFIX=/usr (this one has '${CPACK_BPFUSE_INSTALL_PREFIX}'); "
    "scripts/package.sh does that")
endif()
