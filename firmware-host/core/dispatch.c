/*
 * Received frames (docs/protocol.md, "Messages", "Repeats"): HELLO, BYE and the session,
 * repeats answered but applied once, and the command dispatch. The dispatch and its
 * length check are expanded from MOD_HOST_MESSAGES (wire_spec.h, generated from spec.ts):
 * every host message has its on_<MESSAGE> handler here, or the core does not compile.
 */
#include "board_internal.h"

/* ----------------------------------------------------------- handlers */

static uint8_t on_HELLO(mod_t *m, const uint8_t *p) {
  if (p[MOD_HELLO_PROTOCOL_VERSION] != MOD_PROTOCOL_VERSION) return MOD_STATUS_BAD_VERSION;
  uint16_t lease = mod_get16(&p[MOD_HELLO_LEASE_MS]);
  if (lease < MOD_LIMIT_MIN_LEASE_MS || lease > MOD_LIMIT_MAX_LEASE_MS) return MOD_STATUS_OUT_OF_LIMIT;
  m->session = 1;
  m->lease_ms = lease;
  m->next_telemetry = m->now + MOD_LIMIT_TELEMETRY_MS;
  return MOD_STATUS_OK;
}

static uint8_t on_PING(mod_t *m, const uint8_t *p) {
  (void)m; (void)p;
  return MOD_STATUS_OK;
}

static uint8_t on_CONFIG_TENS(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_CONFIG_TENS_OUTPUT];
  if (o > MOD_OUTPUT_TENS2 || !mod_has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  mod_tens_cfg_t c;
  c.rate_hz = mod_get16(&p[MOD_CONFIG_TENS_RATE_HZ]);
  c.width_us = mod_get16(&p[MOD_CONFIG_TENS_PULSE_WIDTH_US]);
  c.waveform = p[MOD_CONFIG_TENS_WAVEFORM];
  c.area_x10 = mod_get16(&p[MOD_CONFIG_TENS_ELECTRODE_AREA_CM2X10]);
  c.flags = p[MOD_CONFIG_TENS_FLAGS];
  c.bursts_per_s = p[MOD_CONFIG_TENS_BURSTS_PER_S];
  c.pulses_per_burst = p[MOD_CONFIG_TENS_PULSES_PER_BURST];
  c.mod_kind = p[MOD_CONFIG_TENS_MOD_KIND];
  c.mod_min_pct = p[MOD_CONFIG_TENS_MOD_MIN_PCT];
  c.mod_period_ds = mod_get16(&p[MOD_CONFIG_TENS_MOD_PERIOD_DS]);
  if (c.rate_hz < MOD_LIMIT_MIN_TENS_RATE_HZ || c.rate_hz > MOD_LIMIT_MAX_TENS_RATE_HZ) return MOD_STATUS_OUT_OF_LIMIT;
  if (c.width_us < MOD_LIMIT_MIN_TENS_PULSE_WIDTH_US || c.width_us > MOD_LIMIT_MAX_TENS_PULSE_WIDTH_US) return MOD_STATUS_OUT_OF_LIMIT;
  if (c.waveform > 1 || c.area_x10 == 0) return MOD_STATUS_OUT_OF_LIMIT;
  /* burst: bursts_per_s trains of pulses_per_burst pulses at rate_hz must fit in the second;
   * bursts_per_s 0 is continuous and then pulses_per_burst must be 0 too */
  if (c.bursts_per_s ? (c.pulses_per_burst == 0 || (uint32_t)c.bursts_per_s * c.pulses_per_burst > c.rate_hz)
                     : c.pulses_per_burst != 0)
    return MOD_STATUS_OUT_OF_LIMIT;
  if (c.mod_kind > MOD_TENS_MOD_AMPLITUDE || c.mod_min_pct > 100) return MOD_STATUS_OUT_OF_LIMIT;
  /* the present setpoint and every queued value must stay within the density limit */
  mod_chan_t *ch = &m->ch[o];
  if (!mod_tens_density_ok(&c, ch->value) || (ch->ramping && !mod_tens_density_ok(&c, ch->ramp_to))) return MOD_STATUS_OUT_OF_LIMIT;
  for (uint8_t i = 0; i < ch->n; i++)
    if (!mod_tens_density_ok(&c, ch->q[i].to) || !mod_tens_density_ok(&c, ch->q[i].from)) return MOD_STATUS_OUT_OF_LIMIT;
  m->tens_cfg[o] = c;
  return MOD_STATUS_OK;
}

static uint8_t in_list(uint8_t v, const uint8_t *list, uint8_t n) {
  for (uint8_t i = 0; i < n; i++) if (list[i] == v) return 1;
  return 0;
}

static uint8_t on_CONFIG_US(mod_t *m, const uint8_t *p) {
  static const uint8_t freqs[MOD_US_FREQUENCY_COUNT] = MOD_US_FREQUENCIES_MHZ;
  static const uint8_t duties[MOD_US_DUTY_CYCLE_COUNT] = MOD_US_DUTY_CYCLES_PCT;
  if (!m->has_us) return MOD_STATUS_BAD_OUTPUT;
  uint8_t f = p[MOD_CONFIG_US_FREQUENCY_MHZ], d = p[MOD_CONFIG_US_DUTY_CYCLE_PCT];
  uint16_t era = mod_get16(&p[MOD_CONFIG_US_ERA_CM2X10]);
  if (!in_list(f, freqs, MOD_US_FREQUENCY_COUNT) || !in_list(d, duties, MOD_US_DUTY_CYCLE_COUNT) || era == 0)
    return MOD_STATUS_OUT_OF_LIMIT;
  m->us_freq_mhz = f;
  m->us_duty_pct = d;
  m->us_era_x10 = era;
  return MOD_STATUS_OK;
}

static uint8_t on_SET(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_SET_OUTPUT];
  mod_cmd_t cmd = {0};
  if (o >= MOD_OUTPUT_COUNT || !mod_has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  cmd.kind = CMD_SET;
  cmd.at_ms = mod_get32(&p[MOD_SET_AT_MS]);
  cmd.to = mod_get16(&p[MOD_SET_VALUE]);
  uint8_t st = mod_check_value(m, o, cmd.to);
  if (st) return st;
  if (mod_faults_for(m, o)) return MOD_STATUS_FAULT_LATCHED;
  if (mod_is_late(m, cmd.at_ms)) return MOD_STATUS_LATE;
  return mod_enqueue(m, o, &cmd);
}

static uint8_t on_RAMP(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_RAMP_OUTPUT];
  mod_cmd_t cmd;
  if (o >= MOD_OUTPUT_COUNT || !mod_has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  cmd.kind = CMD_RAMP;
  cmd.at_ms = mod_get32(&p[MOD_RAMP_AT_MS]);
  cmd.from = mod_get16(&p[MOD_RAMP_FROM]);
  cmd.to = mod_get16(&p[MOD_RAMP_TO]);
  cmd.duration_ms = mod_get32(&p[MOD_RAMP_DURATION_MS]);
  if (o == MOD_OUTPUT_PAD) {
    if (mod_check_value(m, o, cmd.from) || mod_check_value(m, o, cmd.to)) return MOD_STATUS_OUT_OF_LIMIT;
  } else {
    uint16_t hi = cmd.from > cmd.to ? cmd.from : cmd.to;
    if (mod_check_value(m, o, hi)) return MOD_STATUS_OUT_OF_LIMIT;
  }
  if (o <= MOD_OUTPUT_TENS2 && cmd.to > cmd.from &&
      (uint64_t)(cmd.to - cmd.from) * 1000u > (uint64_t)TENS_SLEW_X10_PER_S * cmd.duration_ms)
    return MOD_STATUS_OUT_OF_LIMIT;
  if (mod_faults_for(m, o)) return MOD_STATUS_FAULT_LATCHED;
  if (mod_is_late(m, cmd.at_ms)) return MOD_STATUS_LATE;
  return mod_enqueue(m, o, &cmd);
}

static uint8_t on_OFF(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_OFF_OUTPUT];
  uint32_t at = mod_get32(&p[MOD_OFF_AT_MS]);
  uint8_t lo = o, hi = o;
  if (o == MOD_OUTPUT_ALL) { lo = 0; hi = MOD_OUTPUT_COUNT - 1; }
  else if (o >= MOD_OUTPUT_COUNT || !mod_has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  if (at == 0) {
    for (uint8_t i = lo; i <= hi; i++) {
      if (!mod_has_output(m, i)) continue;
      mod_drop_queue(m, i);
      mod_output_off(m, i);
      mod_emit(m, MOD_EVENT_APPLIED_OFF, i, 0, 0, 0); /* one per output, as a scheduled OFF */
    }
    return MOD_STATUS_OK;
  }
  if (mod_is_late(m, at)) return MOD_STATUS_LATE;
  for (uint8_t i = lo; i <= hi; i++)
    if (mod_has_output(m, i) && m->ch[i].n >= MOD_QDEPTH) return MOD_STATUS_QUEUE_FULL;
  mod_cmd_t cmd = {0};
  cmd.kind = CMD_OFF;
  cmd.at_ms = at;
  for (uint8_t i = lo; i <= hi; i++) if (mod_has_output(m, i)) mod_enqueue(m, i, &cmd);
  return MOD_STATUS_OK;
}

static uint8_t on_CANCEL(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_CANCEL_OUTPUT];
  if (o == MOD_OUTPUT_ALL) for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++) mod_drop_queue(m, i);
  else if (o < MOD_OUTPUT_COUNT && mod_has_output(m, o)) mod_drop_queue(m, o);
  else return MOD_STATUS_BAD_OUTPUT;
  return MOD_STATUS_OK;
}

static uint8_t on_CLEAR(mod_t *m, const uint8_t *p) { return mod_clear_faults(m, p[MOD_CLEAR_OUTPUT]); }

static uint8_t on_ESTOP(mod_t *m, const uint8_t *p) {
  (void)p;
  mod_latch_board(m, MOD_FAULT_ESTOP);
  return MOD_STATUS_OK;
}

static uint8_t on_EVENT_ACK(mod_t *m, const uint8_t *p) {
  mod_ack_event(m, mod_get16(&p[MOD_EVENT_ACK_EVENT_ID]));
  return MOD_STATUS_OK;
}

/* The host ends the session: every output off now, queues dropped, APPLIED_OFF (code 0)
 * for each output that was driven, and no fault latched (latched ones stay). The session
 * closes in handle_frame once the ACK and these events are out. */
static uint8_t on_BYE(mod_t *m, const uint8_t *p) {
  (void)p;
  mod_cut_all(m, 0);
  return MOD_STATUS_OK;
}

/* ----------------------------------------------------------- dispatch */

/* One case per host message of spec.ts: the wrong length or an unknown id is BAD_MESSAGE. */
static uint8_t dispatch(mod_t *m, const uint8_t *p, uint8_t n) {
  switch (p[0]) {
#define HANDLE(name, id, len) \
    case id: return n == (len) ? on_##name(m, p) : MOD_STATUS_BAD_MESSAGE;
    MOD_HOST_MESSAGES(HANDLE)
#undef HANDLE
    default: return MOD_STATUS_BAD_MESSAGE;
  }
}

static void handle_frame(mod_t *m) {
  const uint8_t *f = m->rx.buf;
  uint8_t len = f[0], seq = f[1];
  const uint8_t *p = &f[2];
  uint8_t n = (uint8_t)(len - MOD_FRAME_OVERHEAD);
  uint16_t crc = mod_get16(&f[len - 3]);
  uint8_t hello = p[0] == MOD_MSG_HELLO, bye = p[0] == MOD_MSG_BYE;

  m->last_rx_ms = m->now; /* any valid frame renews the lease */

  if (!hello) { /* HELLO is answered outside a session, and never as a repeat */
    if (!m->session) { mod_send_ack(m, seq, MOD_STATUS_NO_SESSION); return; }
    if (m->have_last && seq == m->last_seq && crc == m->last_crc) {
      mod_send_ack(m, seq, m->last_status); /* a retransmission: answer again, apply once */
      return;
    }
  }
  uint8_t st = dispatch(m, p, n);
  /* a HELLO starts a new sequence space: forget the previous host's last seq */
  m->have_last = hello ? st == MOD_STATUS_OK : 1;
  m->last_seq = seq;
  m->last_crc = crc;
  m->last_status = st;
  mod_send_ack(m, seq, st);
  if (hello && st == MOD_STATUS_OK) mod_send_identify(m);
  mod_flush_events(m);
  /* BYE: the ACK and the APPLIED_OFF events are out; close the session as a lease expiry
   * does (no telemetry, no resends, NO_SESSION until the next HELLO), latching nothing */
  if (bye && st == MOD_STATUS_OK) m->session = 0;
}

void mod_rx_byte(mod_t *m, uint8_t b) {
  if (!mod_rx_push(&m->rx, b)) return;
  do handle_frame(m); while (mod_rx_resume(&m->rx));
}
