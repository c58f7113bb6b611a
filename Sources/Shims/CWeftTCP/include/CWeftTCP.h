#ifndef CWeftTCP_H
#define CWeftTCP_H
#endif
