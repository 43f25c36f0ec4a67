/*
 * Reliable events (docs/protocol.md, "Events"): a queue of MOD_EVENT_SLOTS, each event
 * sent at the next flush and resent every eventRetryMs until its EVENT_ACK, while a
 * session is open.
 */
#include "board_internal.h"

static void send_event(mod_t *m, mod_event_t *e) {
  uint8_t p[MOD_EVENT_LEN];
  p[0] = MOD_MSG_EVENT;
  mod_put16(&p[MOD_EVENT_EVENT_ID], e->id);
  mod_put32(&p[MOD_EVENT_BOARD_MS], e->board_ms);
  p[MOD_EVENT_KIND] = e->kind;
  p[MOD_EVENT_OUTPUT] = e->output;
  p[MOD_EVENT_CODE] = e->code;
  mod_put16(&p[MOD_EVENT_VALUE], e->value);
  mod_put32(&p[MOD_EVENT_AUX], e->aux);
  mod_send(m, p, sizeof p);
  e->sent = 1;
  e->last_sent = m->now;
}

/* FAULT_LATCHED and APPLIED_OFF are never dropped for a lesser event (docs/protocol.md, "Events"). */
static uint8_t critical(uint8_t kind) { return kind == MOD_EVENT_FAULT_LATCHED || kind == MOD_EVENT_APPLIED_OFF; }

/* The oldest used slot, among the critical or the other events. */
static mod_event_t *oldest(mod_t *m, uint8_t want_critical) {
  mod_event_t *best = 0;
  for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++) {
    mod_event_t *e = &m->ev[i];
    if (!e->used || critical(e->kind) != want_critical) continue;
    if (!best || (int16_t)(e->id - best->id) < 0) best = e;
  }
  return best;
}

/* Queue a reliable event. It goes out at the next flush and is resent every
 * eventRetryMs until EVENT_ACK, while a session is open. When every slot is taken
 * the oldest event that is neither FAULT_LATCHED nor APPLIED_OFF makes room; when all
 * of them are, a lesser newcomer is the one dropped, and only a critical newcomer
 * replaces the oldest critical event. Every drop is counted (events_dropped); the
 * telemetry's fault bits stay the source of truth. */
void mod_emit(mod_t *m, uint8_t kind, uint8_t output, uint8_t code, uint16_t value, uint32_t aux) {
  mod_event_t *slot = 0;
  for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++)
    if (!m->ev[i].used) { slot = &m->ev[i]; break; }
  if (!slot) {
    m->events_dropped++;
    slot = oldest(m, 0);
    if (!slot) {
      if (!critical(kind)) return;
      slot = oldest(m, 1);
    }
  }
  slot->used = 1;
  slot->sent = 0;
  slot->id = m->next_event_id++;
  if (m->next_event_id == 0) m->next_event_id = 1;
  slot->board_ms = m->now;
  slot->kind = kind;
  slot->output = output;
  slot->code = code;
  slot->value = value;
  slot->aux = aux;
}

void mod_flush_events(mod_t *m) {
  if (!m->session) return;
  /* oldest first */
  for (;;) {
    mod_event_t *best = 0;
    for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++) {
      mod_event_t *e = &m->ev[i];
      if (!e->used) continue;
      if (e->sent && since(m->now, e->last_sent) < MOD_LIMIT_EVENT_RETRY_MS) continue;
      if (!best || (int16_t)(e->id - best->id) < 0) best = e;
    }
    if (!best) return;
    send_event(m, best);
  }
}

void mod_ack_event(mod_t *m, uint16_t id) {
  for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++)
    if (m->ev[i].used && m->ev[i].id == id) m->ev[i].used = 0;
}
