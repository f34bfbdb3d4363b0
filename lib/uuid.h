/*
 * uuid.h: random (version 4) UUIDs, as Spark names a query (id) and each
 * of its runs (runId).
 */
#ifndef RUNNEL_UUID_H
#define RUNNEL_UUID_H

#define UUID_STRLEN 37	/* 36 characters and the NUL */

/* Write a new random UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", to buf.
 * Returns 0, or -1 with err when the system has no randomness to give. */
int uuid_random(char buf[UUID_STRLEN], char *err);

#endif
