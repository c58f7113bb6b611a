#ifndef CWeftSharedMemory_H
#define CWeftSharedMemory_H
#endif
