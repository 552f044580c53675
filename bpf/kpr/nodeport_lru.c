// nodeport.c with a connection-tracking map of 16 entries, for tests of LRU pressure
// (test/kpr/nodeport-lru.test.ts): new connections must evict old entries without corrupting
// the entries of connections still in use.
#define CT_MAP_MAX_ENTRIES 16
#include "nodeport.c"
