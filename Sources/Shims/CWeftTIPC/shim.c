#include "CWeftTIPC.h"
