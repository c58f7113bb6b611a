# shellcheck shell=bash disable=SC2034  # variables shared with scripts/kernel-lab
# Kernel lab: helpers shared by scripts/kernel-lab and its parts (sourced).

# Exit status of the lab itself when it cannot give a verdict on the
# command (no QEMU, boot time-out, guest panic, bad options...).
LAB_EXIT_LAB=125
# Exit status when the command ran past --timeout.
LAB_EXIT_TIMEOUT=124

lab_note() { [ -n "${LAB_QUIET_NOTES:-}" ] || echo "kernel-lab: $*" >&2; }
lab_verbose() { [ -z "${LAB_VERBOSE:-}" ] || echo "kernel-lab: $*" >&2; }
lab_die() {
    echo "kernel-lab: error: $*" >&2
    exit "$LAB_EXIT_LAB"
}

# lab_quote VALUE: VALUE in single quotes, safe for any POSIX shell.
lab_quote() {
    local s=${1//\'/\'\\\'\'}
    printf "'%s'" "$s"
}
