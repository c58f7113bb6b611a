#ifndef CWeftTIPC_H
#define CWeftTIPC_H
#endif
