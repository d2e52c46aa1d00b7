// The declaration is all: the definition comes from libFuzzer itself.
#include "CFuzzerDriver.h"
