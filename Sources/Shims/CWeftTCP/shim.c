#include "CWeftTCP.h"
