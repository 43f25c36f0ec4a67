/*
 * The board: one board millisecond (mod_tick), when the core next acts on its own
 * (mod_next_wake, mod_steady), and the state it starts in (mod_init). The parts are in
 * dispatch.c, queue.c, safety.c, thermal.c, events.c and tx.c (board_internal.h).
 * Portable C: no AVR headers, no floating point, no allocation.
 */
#include "board_internal.h"

void mod_tick(mod_t *m, uint32_t now_ms, const mod_inputs_t *in) {
  m->now = now_ms;
  m->in = *in;
  mod_check_safety(m);
  mod_thermal_guard(m);
  mod_run_queues(m);
  mod_check_contact(m);
  mod_update_outputs(m);
  mod_pad_loop(m);
  if (m->session && since(m->now, m->next_telemetry) >= 0) {
    mod_send_telemetry(m);
    m->next_telemetry += MOD_LIMIT_TELEMETRY_MS;
    if (since(m->now, m->next_telemetry) >= 0) m->next_telemetry = m->now + MOD_LIMIT_TELEMETRY_MS;
  }
  mod_flush_events(m);
}

static void earliest(const mod_t *m, uint32_t *best, uint8_t *have, uint32_t t) {
  if (since(t, m->now) <= 0) t = m->now + 1; /* due already: the next tick */
  if (!*have || since(t, *best) < 0) { *best = t; *have = 1; }
}

uint32_t mod_next_wake(const mod_t *m) {
  uint32_t w = m->now + 0x40000000u; /* nothing pending: far ahead, but well inside the wrap */
  uint8_t have = 0;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) {
    const mod_chan_t *c = &m->ch[o];
    if (c->n) earliest(m, &w, &have, c->q[0].at_ms);
    if (c->ramping) earliest(m, &w, &have, c->ramp_start + c->ramp_dur);
  }
  if (m->session) {
    earliest(m, &w, &have, m->next_telemetry);
    if (!(m->board_faults & BIT(MOD_FAULT_HOST_TIMEOUT))) earliest(m, &w, &have, m->last_rx_ms + m->lease_ms);
    for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++) {
      const mod_event_t *e = &m->ev[i];
      if (e->used) earliest(m, &w, &have, e->sent ? e->last_sent + MOD_LIMIT_EVENT_RETRY_MS : m->now);
    }
  }
  if (m->pad_goal) {
    if (m->watch_active) earliest(m, &w, &have, m->watch_deadline);
    if (m->pad_at_target && m->stray) earliest(m, &w, &have, m->stray_since + MOD_LIMIT_RUNAWAY_PERIOD_MS);
  }
  return w;
}

uint8_t mod_steady(const mod_t *m) {
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++)
    if (m->ch[o].ramping) return 0;
  for (uint8_t o = 0; o <= MOD_OUTPUT_TENS2; o++)
    if (m->tens_fine[o] != (uint32_t)m->ch[o].value * 1000u) return 0;
  return 1;
}

void mod_init(mod_t *m, mod_tx_fn tx) {
  uint8_t *p = (uint8_t *)m;
  for (uint16_t i = 0; i < sizeof *m; i++) p[i] = 0;
  m->tx = tx;
  m->board_kind = MOD_BOARD_KIND_AVR;
  m->tens_channels = 2;
  m->has_us = 1;
  m->has_pad = 1;
  m->max_tens_x10 = TENS_MAX_X10;
  m->next_event_id = 1;
  m->us_duty_pct = 100;
  m->us_freq_mhz = 1;
  m->in.coupled = 1;
  m->in.tens_ohm[0] = m->in.tens_ohm[1] = MOD_OHM_OPEN;
  m->in.pad_cx10 = m->in.head_cx10 = 250;
}
