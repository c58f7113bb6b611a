#include "CWeftSharedMemory.h"
