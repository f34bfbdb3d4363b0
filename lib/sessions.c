/*
 * sessions.c: the session store of a grouping stage; see sessions.h.
 */
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "sessions.h"

void
sessions_init(struct sessions *p, size_t acc_size)
{
	memset(p, 0, sizeof *p);
	p->stride = sizeof(struct session) + acc_size;
}

void
sessions_free(struct sessions *p)
{
	free(p->mem);
	p->mem = NULL;
	p->n = p->cap = p->free_head = p->nlive = 0;
}

uint32_t
sessions_alloc(struct sessions *p)
{
	uint32_t idx;

	if (p->free_head != 0) {
		idx = p->free_head;
		p->free_head = session_at(p, idx)->next;
	} else {
		if (p->n == p->cap) {
			if (p->cap >= UINT32_MAX / 2)
				return 0;
			p->cap = p->cap ? 2 * p->cap : 64;
			p->mem = xrealloc(p->mem, (size_t)p->cap * p->stride);
		}
		idx = ++p->n;
	}
	memset(session_at(p, idx), 0, p->stride);
	p->nlive++;
	return idx;
}

void
sessions_link(struct sessions *p, uint32_t *head, uint32_t prev,
    uint32_t idx)
{
	uint32_t *at = prev != 0 ? &session_at(p, prev)->next : head;

	session_at(p, idx)->next = *at;
	*at = idx;
}

void
sessions_unlink(struct sessions *p, uint32_t *head, uint32_t prev,
    uint32_t idx)
{
	uint32_t next = session_at(p, idx)->next;

	if (prev != 0)
		session_at(p, prev)->next = next;
	else
		*head = next;
	session_at(p, idx)->next = p->free_head;
	p->free_head = idx;
	p->nlive--;
}

/*
 * The list is disjoint and sorted, so the sessions to merge are adjacent:
 * skip those ending before start, then the first one starting at or
 * before end takes the window and swallows its successors while they
 * start at or before its (grown) end.
 */
uint32_t
sessions_add(struct sessions *p, uint32_t *head, int64_t start,
    int64_t end, struct aggs *a, uint32_t seq, int64_t *updated)
{
	uint32_t prev = 0, cur, t;
	struct session *s;

	for (cur = *head; cur != 0 && session_at(p, cur)->end < start;
	    cur = session_at(p, cur)->next)
		prev = cur;
	if (cur != 0 && session_at(p, cur)->start <= end) {
		t = cur;
		s = session_at(p, t);
		if (start < s->start)
			s->start = start;
		if (end > s->end)
			s->end = end;
		while (s->next != 0 && session_at(p, s->next)->start <=
		    s->end) {
			uint32_t o = s->next;
			struct session *os = session_at(p, o);

			if (os->end > s->end)
				s->end = os->end;
			aggs_absorb(a, session_acc(p, t), session_acc(p, o));
			if (os->mark == seq)
				(*updated)--;	/* counted in t */
			sessions_unlink(p, head, t, o);
		}
	} else {
		t = sessions_alloc(p);	/* may move the store */
		if (t == 0)
			return 0;
		s = session_at(p, t);
		s->start = start;
		s->end = end;
		/* cur follows prev still: the store moved, not the list */
		sessions_link(p, head, prev, t);
	}
	if (s->mark != seq) {
		s->mark = seq;
		(*updated)++;
	}
	return t;
}
