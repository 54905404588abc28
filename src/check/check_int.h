/**
 * @file check_int.h  Start-up checks internals
 */

bool check_held_by_imsedge(uint16_t port, bool tcp);
