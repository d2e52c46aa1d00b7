#ifndef CANARY_CSYSTEMD_SHIM_H
#define CANARY_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
