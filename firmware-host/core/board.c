/*
 * The board: messages, per-output queues on the board clock, outputs, and the
 * safety behaviour of docs/protocol.md ("What the board does on its own").
 * Portable C: no AVR headers, no floating point, no allocation.
 */
#include "modality.h"

#define BIT(code) ((uint16_t)(1u << ((code) - 1)))
#define BOARD_WIDE (BIT(MOD_FAULT_STOP_INPUT) | BIT(MOD_FAULT_HOST_TIMEOUT) | BIT(MOD_FAULT_ESTOP) | \
                    BIT(MOD_FAULT_OVER_TEMP) | BIT(MOD_FAULT_THERMAL_RUNAWAY) | BIT(MOD_FAULT_UNDER_TEMP) | \
                    BIT(MOD_FAULT_HEAD_OVER_TEMP))
#define TENS_MAX_X10 ((uint16_t)(MOD_LIMIT_MAX_TENS_MA * 10))
#define TENS_SLEW_X10_PER_S ((uint32_t)(MOD_LIMIT_MAX_TENS_SLEW_MA_PER_S * 10))
/* tens_fine is in 0.1 mA / 1000; the slew limit per 1 ms tick in those units: */
#define TENS_SLEW_FINE_PER_MS ((uint32_t)(TENS_SLEW_X10_PER_S * 1000 / 1000))
#define US_MAX_X100 ((uint16_t)(MOD_LIMIT_MAX_US_WPER_CM2 * 100))
#define PAD_MAX_X10 ((uint16_t)(MOD_LIMIT_MAX_PAD_TARGET_C * 10))
#define PAD_MIN_X10 ((uint16_t)(MOD_LIMIT_MIN_PAD_TARGET_C * 10))
#define PAD_OVER_X10 ((int16_t)(MOD_LIMIT_PAD_OVER_TEMP_C * 10))
#define PAD_UNDER_X10 ((int16_t)(MOD_LIMIT_PAD_UNDER_TEMP_C * 10))
#define HEAD_OVER_X10 ((int16_t)(MOD_LIMIT_HEAD_OVER_TEMP_C * 10))
#define WATCH_HYST_X10 ((int16_t)(MOD_LIMIT_RUNAWAY_HYSTERESIS_C * 10))
#define WATCH_INC_X10 ((int16_t)(MOD_LIMIT_WATCH_INCREASE_C * 10))
#define AT_TARGET_X10 ((int16_t)(MOD_LIMIT_AT_TARGET_BAND_C * 10))
/* Pad loop: proportional, full drive at this error (0.1 °C). */
#define PAD_FULL_DRIVE_ERR_X10 10

static int32_t since(uint32_t now, uint32_t t) { return (int32_t)(now - t); }
static int16_t iabs16(int16_t v) { return v < 0 ? (int16_t)-v : v; }

/* ------------------------------------------------------------------ tx */

static void send(mod_t *m, const uint8_t *payload, uint8_t n) {
  uint8_t f[MOD_FRAME_MAX_LEN];
  uint8_t len = mod_frame_encode(f, m->tx_seq++, payload, n);
  if (m->tx) m->tx(f, len);
}

static void send_ack(mod_t *m, uint8_t seq, uint8_t status) {
  uint8_t p[MOD_ACK_LEN];
  p[0] = MOD_MSG_ACK;
  p[MOD_ACK_ACK_SEQ] = seq;
  p[MOD_ACK_STATUS] = status;
  mod_put32(&p[MOD_ACK_BOARD_MS], m->now);
  send(m, p, sizeof p);
}

static void send_identify(mod_t *m) {
  uint8_t p[MOD_IDENTIFY_LEN];
  p[0] = MOD_MSG_IDENTIFY;
  p[MOD_IDENTIFY_PROTOCOL_VERSION] = MOD_PROTOCOL_VERSION;
  p[MOD_IDENTIFY_FW_MAJOR] = MOD_FW_MAJOR;
  p[MOD_IDENTIFY_FW_MINOR] = MOD_FW_MINOR;
  p[MOD_IDENTIFY_FW_PATCH] = MOD_FW_PATCH;
  p[MOD_IDENTIFY_BOARD_KIND] = m->board_kind;
  p[MOD_IDENTIFY_TENS_CHANNELS] = m->tens_channels;
  p[MOD_IDENTIFY_HAS_ULTRASOUND] = m->has_us;
  p[MOD_IDENTIFY_HAS_PAD] = m->has_pad;
  mod_put16(&p[MOD_IDENTIFY_MAX_TENS_MA_X10], m->max_tens_x10);
  mod_put16(&p[MOD_IDENTIFY_MAX_TENS_SLEW_MA_PER_SX10], (uint16_t)TENS_SLEW_X10_PER_S);
  mod_put16(&p[MOD_IDENTIFY_MAX_US_WPER_CM2_X100], US_MAX_X100);
  mod_put16(&p[MOD_IDENTIFY_MAX_PAD_CX10], PAD_MAX_X10);
  mod_put16(&p[MOD_IDENTIFY_MIN_PAD_CX10], PAD_MIN_X10);
  mod_put16(&p[MOD_IDENTIFY_LEASE_MS], m->lease_ms);
  mod_put32(&p[MOD_IDENTIFY_BOARD_MS], m->now);
  send(m, p, sizeof p);
}

static uint16_t all_faults(const mod_t *m) {
  uint16_t f = m->board_faults;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) f |= m->out_faults[o];
  return f;
}

static void send_telemetry(mod_t *m) {
  uint8_t p[MOD_TELEMETRY_LEN];
  uint16_t of = 0;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++)
    if (m->out_faults[o]) of |= (uint16_t)(1u << (4 * o));
  p[0] = MOD_MSG_TELEMETRY;
  mod_put32(&p[MOD_TELEMETRY_BOARD_MS], m->now);
  mod_put16(&p[MOD_TELEMETRY_TENS1_X10], m->out.tens_x10[0]);
  mod_put16(&p[MOD_TELEMETRY_TENS2_X10], m->out.tens_x10[1]);
  mod_put16(&p[MOD_TELEMETRY_US_X100], m->out.us_x100);
  mod_put16(&p[MOD_TELEMETRY_PAD_TARGET_CX10], m->ch[MOD_OUTPUT_PAD].value);
  mod_put16(&p[MOD_TELEMETRY_PAD_CX10], (uint16_t)m->in.pad_cx10);
  mod_put16(&p[MOD_TELEMETRY_HEAD_CX10], (uint16_t)m->in.head_cx10);
  mod_put16(&p[MOD_TELEMETRY_TENS1_OHM], m->in.tens_ohm[0]);
  mod_put16(&p[MOD_TELEMETRY_TENS2_OHM], m->in.tens_ohm[1]);
  p[MOD_TELEMETRY_COUPLED] = m->in.coupled ? 1 : 0;
  p[MOD_TELEMETRY_STOP_INPUT] = m->in.stop ? 1 : 0;
  mod_put16(&p[MOD_TELEMETRY_FAULTS], all_faults(m));
  mod_put16(&p[MOD_TELEMETRY_OUTPUT_FAULTS], of);
  send(m, p, sizeof p);
}

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
  send(m, p, sizeof p);
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

static void flush_events(mod_t *m) {
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

/* ------------------------------------------------------------ outputs */

static void drop_queue(mod_t *m, uint8_t o) { m->ch[o].n = 0; }

static void output_off(mod_t *m, uint8_t o) {
  mod_chan_t *c = &m->ch[o];
  c->value = 0;
  c->ramping = 0;
  if (o <= MOD_OUTPUT_TENS2) {
    m->tens_fine[o] = 0;
    m->out.tens_x10[o] = 0;
  } else if (o == MOD_OUTPUT_ULTRASOUND) {
    m->out.us_x100 = 0;
  } else {
    m->pad_goal = 0;
    m->pad_at_target = 0;
    m->watch_active = 0;
    m->stray = 0;
    m->out.heater_pct = 0;
    m->out.cooler_pct = 0;
  }
}

/* Is the output doing anything (a value, a ramp, a slewing TENS level, a pad goal)? */
static uint8_t driven(const mod_t *m, uint8_t o) {
  const mod_chan_t *c = &m->ch[o];
  if (c->value || c->ramping) return 1;
  if (o <= MOD_OUTPUT_TENS2) return m->tens_fine[o] != 0;
  if (o == MOD_OUTPUT_PAD) return m->pad_goal != 0;
  return 0;
}

/* A board-wide latch: every queue dropped, every output off; one APPLIED_OFF (with the
 * cause) for each output that was driven, then FAULT_LATCHED for 0xFF. */
static void latch_board(mod_t *m, uint8_t code) {
  if (m->board_faults & BIT(code)) return;
#ifdef MOD_DEFECTS
  if (code == MOD_FAULT_THERMAL_RUNAWAY && (m->defects & MOD_DEFECT_NO_RUNAWAY)) return;
#endif
  m->board_faults |= BIT(code);
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) {
    uint8_t was = driven(m, o);
    drop_queue(m, o);
    output_off(m, o);
    if (was) mod_emit(m, MOD_EVENT_APPLIED_OFF, o, code, 0, 0);
  }
  mod_emit(m, MOD_EVENT_FAULT_LATCHED, MOD_OUTPUT_ALL, code, 0, 0);
}

/* An output latch (lead-off, uncoupled): APPLIED_OFF then FAULT_LATCHED for that output. */
static void latch_output(mod_t *m, uint8_t o, uint8_t code) {
  if (m->out_faults[o] & BIT(code)) return;
  m->out_faults[o] |= BIT(code);
  m->cause_gone_sent[o] = 0;
  drop_queue(m, o);
  output_off(m, o);
  mod_emit(m, MOD_EVENT_APPLIED_OFF, o, code, 0, 0);
  mod_emit(m, MOD_EVENT_FAULT_LATCHED, o, code, 0, 0);
}

static uint16_t faults_for(const mod_t *m, uint8_t o) { return (uint16_t)(m->board_faults | m->out_faults[o]); }

static void pad_new_goal(mod_t *m, uint16_t goal) {
  m->pad_goal = goal;
  m->pad_at_target = 0;
  m->stray = 0;
  if (iabs16((int16_t)(goal - m->in.pad_cx10)) > WATCH_HYST_X10) {
    m->watch_active = 1;
    m->watch_start = m->in.pad_cx10;
    m->watch_deadline = m->now + MOD_LIMIT_WATCH_PERIOD_MS;
  } else {
    m->watch_active = 0;
  }
}

/* ------------------------------------------------------------- limits */

uint8_t mod_tens_density_ok(const mod_tens_cfg_t *c, uint16_t amp_x10) {
  if (amp_x10 == 0) return 1;
  if (c->rate_hz == 0 || c->area_x10 == 0) return 0; /* unconfigured: only off is allowed */
  uint32_t pps = c->rate_hz;
  if (c->bursts_per_s) pps = (uint32_t)c->bursts_per_s * c->pulses_per_burst;
  uint32_t k = c->waveform == 1 ? 2 : 1;
  uint32_t d = (c->flags & 1) ? MOD_LIMIT_MAX_TENS_DENSITY_ACK_MA_PER_CM2 : MOD_LIMIT_MAX_TENS_DENSITY_MA_PER_CM2;
  /* I_rms / A <= D  <=>  v^2 * pw * k * pps <= D^2 * a^2 * 1e6  (v in 0.1 mA, a in 0.1 cm², pw in µs) */
  uint64_t lhs = (uint64_t)amp_x10 * amp_x10 * c->width_us * k * pps;
  uint64_t rhs = (uint64_t)(d * d) * ((uint32_t)c->area_x10 * c->area_x10) * 1000000ULL;
  return lhs <= rhs;
}

static uint8_t has_output(const mod_t *m, uint8_t o) {
  if (o <= MOD_OUTPUT_TENS2) return o < m->tens_channels;
  if (o == MOD_OUTPUT_ULTRASOUND) return m->has_us;
  return o == MOD_OUTPUT_PAD && m->has_pad;
}

static uint8_t check_value(const mod_t *m, uint8_t o, uint16_t v) {
  if (o <= MOD_OUTPUT_TENS2) {
    if (v > m->max_tens_x10 || !mod_tens_density_ok(&m->tens_cfg[o], v)) return MOD_STATUS_OUT_OF_LIMIT;
  } else if (o == MOD_OUTPUT_ULTRASOUND) {
    if (v > US_MAX_X100) return MOD_STATUS_OUT_OF_LIMIT;
  } else {
    if (v < PAD_MIN_X10 || v > PAD_MAX_X10) return MOD_STATUS_OUT_OF_LIMIT;
  }
  return MOD_STATUS_OK;
}

static uint8_t is_late(const mod_t *m, uint32_t at) { return since(m->now, at) > MOD_LIMIT_LATE_TOLERANCE_MS; }

static uint8_t enqueue(mod_t *m, uint8_t o, const mod_cmd_t *cmd) {
  mod_chan_t *c = &m->ch[o];
  if (c->n >= MOD_QDEPTH) return MOD_STATUS_QUEUE_FULL;
  uint8_t i = c->n;
  /* keep the queue ordered by atMs; equal times keep arrival order */
  while (i > 0 && (int32_t)(c->q[i - 1].at_ms - cmd->at_ms) > 0) { c->q[i] = c->q[i - 1]; i--; }
  c->q[i] = *cmd;
  c->n++;
  return MOD_STATUS_OK;
}

/* ----------------------------------------------------------- messages */

static uint8_t on_set(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_SET_OUTPUT];
  mod_cmd_t cmd = {0};
  if (o >= MOD_OUTPUT_COUNT || !has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  cmd.kind = CMD_SET;
  cmd.at_ms = mod_get32(&p[MOD_SET_AT_MS]);
  cmd.to = mod_get16(&p[MOD_SET_VALUE]);
  uint8_t st = check_value(m, o, cmd.to);
  if (st) return st;
  if (faults_for(m, o)) return MOD_STATUS_FAULT_LATCHED;
  if (is_late(m, cmd.at_ms)) return MOD_STATUS_LATE;
  return enqueue(m, o, &cmd);
}

static uint8_t on_ramp(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_RAMP_OUTPUT];
  mod_cmd_t cmd;
  if (o >= MOD_OUTPUT_COUNT || !has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  cmd.kind = CMD_RAMP;
  cmd.at_ms = mod_get32(&p[MOD_RAMP_AT_MS]);
  cmd.from = mod_get16(&p[MOD_RAMP_FROM]);
  cmd.to = mod_get16(&p[MOD_RAMP_TO]);
  cmd.duration_ms = mod_get32(&p[MOD_RAMP_DURATION_MS]);
  if (o == MOD_OUTPUT_PAD) {
    if (check_value(m, o, cmd.from) || check_value(m, o, cmd.to)) return MOD_STATUS_OUT_OF_LIMIT;
  } else {
    uint16_t hi = cmd.from > cmd.to ? cmd.from : cmd.to;
    if (check_value(m, o, hi)) return MOD_STATUS_OUT_OF_LIMIT;
  }
  if (o <= MOD_OUTPUT_TENS2 && cmd.to > cmd.from &&
      (uint64_t)(cmd.to - cmd.from) * 1000u > (uint64_t)TENS_SLEW_X10_PER_S * cmd.duration_ms)
    return MOD_STATUS_OUT_OF_LIMIT;
  if (faults_for(m, o)) return MOD_STATUS_FAULT_LATCHED;
  if (is_late(m, cmd.at_ms)) return MOD_STATUS_LATE;
  return enqueue(m, o, &cmd);
}

static uint8_t on_off(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_OFF_OUTPUT];
  uint32_t at = mod_get32(&p[MOD_OFF_AT_MS]);
  uint8_t lo = o, hi = o;
  if (o == MOD_OUTPUT_ALL) { lo = 0; hi = MOD_OUTPUT_COUNT - 1; }
  else if (o >= MOD_OUTPUT_COUNT || !has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
  if (at == 0) {
    for (uint8_t i = lo; i <= hi; i++) {
      if (!has_output(m, i)) continue;
      drop_queue(m, i);
      output_off(m, i);
      mod_emit(m, MOD_EVENT_APPLIED_OFF, i, 0, 0, 0); /* one per output, as a scheduled OFF */
    }
    return MOD_STATUS_OK;
  }
  if (is_late(m, at)) return MOD_STATUS_LATE;
  for (uint8_t i = lo; i <= hi; i++)
    if (has_output(m, i) && m->ch[i].n >= MOD_QDEPTH) return MOD_STATUS_QUEUE_FULL;
  mod_cmd_t cmd = {0};
  cmd.kind = CMD_OFF;
  cmd.at_ms = at;
  for (uint8_t i = lo; i <= hi; i++) if (has_output(m, i)) enqueue(m, i, &cmd);
  return MOD_STATUS_OK;
}

static uint8_t cause_present(const mod_t *m, uint8_t code, uint8_t o) {
  switch (code) {
    case MOD_FAULT_LEAD_OFF: return o <= MOD_OUTPUT_TENS2 && m->in.tens_ohm[o] > MOD_LIMIT_LEAD_OFF_OHM;
    case MOD_FAULT_UNCOUPLED: return !m->in.coupled;
    case MOD_FAULT_OVER_TEMP: return m->in.pad_cx10 > PAD_OVER_X10;
    case MOD_FAULT_UNDER_TEMP: return m->in.pad_cx10 < PAD_UNDER_X10;
    case MOD_FAULT_STOP_INPUT: return m->in.stop != 0;
    case MOD_FAULT_HEAD_OVER_TEMP: return m->in.head_cx10 > HEAD_OVER_X10;
    default: return 0;
  }
}

static uint8_t causes_present(const mod_t *m, uint16_t faults, uint8_t o) {
  for (uint8_t code = 1; code <= 16; code++)
    if ((faults & BIT(code)) && cause_present(m, code, o)) return 1;
  return 0;
}

static uint8_t on_clear(mod_t *m, uint8_t o) {
  uint16_t cleared = 0;
  if (o == MOD_OUTPUT_ALL) {
    if (causes_present(m, m->board_faults, 0xFF)) return MOD_STATUS_CAUSE_PRESENT;
    for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++)
      if (causes_present(m, m->out_faults[i], i)) return MOD_STATUS_CAUSE_PRESENT;
    cleared = all_faults(m);
    m->board_faults = 0;
    for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++) m->out_faults[i] = 0;
  } else if (o < MOD_OUTPUT_COUNT && has_output(m, o)) {
    if (causes_present(m, m->out_faults[o], o)) return MOD_STATUS_CAUSE_PRESENT;
    cleared = m->out_faults[o];
    m->out_faults[o] = 0;
  } else {
    return MOD_STATUS_BAD_OUTPUT;
  }
  if (cleared) mod_emit(m, MOD_EVENT_FAULT_CLEARED, o, 0, cleared, 0);
  return MOD_STATUS_OK;
}

static uint8_t on_config_tens(mod_t *m, const uint8_t *p) {
  uint8_t o = p[MOD_CONFIG_TENS_OUTPUT];
  if (o > MOD_OUTPUT_TENS2 || !has_output(m, o)) return MOD_STATUS_BAD_OUTPUT;
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

static uint8_t on_config_us(mod_t *m, const uint8_t *p) {
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

static uint8_t on_event_ack(mod_t *m, uint16_t id) {
  for (uint8_t i = 0; i < MOD_EVENT_SLOTS; i++)
    if (m->ev[i].used && m->ev[i].id == id) m->ev[i].used = 0;
  return MOD_STATUS_OK;
}

static const uint8_t MSG_LEN[][2] = {
  {MOD_MSG_PING, MOD_PING_LEN}, {MOD_MSG_CONFIG_TENS, MOD_CONFIG_TENS_LEN}, {MOD_MSG_CONFIG_US, MOD_CONFIG_US_LEN},
  {MOD_MSG_SET, MOD_SET_LEN}, {MOD_MSG_RAMP, MOD_RAMP_LEN}, {MOD_MSG_OFF, MOD_OFF_LEN},
  {MOD_MSG_CANCEL, MOD_CANCEL_LEN}, {MOD_MSG_CLEAR, MOD_CLEAR_LEN}, {MOD_MSG_ESTOP, MOD_ESTOP_LEN},
  {MOD_MSG_EVENT_ACK, MOD_EVENT_ACK_LEN},
};

static uint8_t dispatch(mod_t *m, const uint8_t *p, uint8_t n) {
  uint8_t ok_len = 0;
  for (uint8_t i = 0; i < sizeof MSG_LEN / sizeof MSG_LEN[0]; i++)
    if (MSG_LEN[i][0] == p[0]) { ok_len = MSG_LEN[i][1] == n; break; }
  if (!ok_len) return MOD_STATUS_BAD_MESSAGE;
  switch (p[0]) {
    case MOD_MSG_PING: return MOD_STATUS_OK;
    case MOD_MSG_CONFIG_TENS: return on_config_tens(m, p);
    case MOD_MSG_CONFIG_US: return on_config_us(m, p);
    case MOD_MSG_SET: return on_set(m, p);
    case MOD_MSG_RAMP: return on_ramp(m, p);
    case MOD_MSG_OFF: return on_off(m, p);
    case MOD_MSG_CANCEL: {
      uint8_t o = p[MOD_CANCEL_OUTPUT];
      if (o == MOD_OUTPUT_ALL) for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++) drop_queue(m, i);
      else if (o < MOD_OUTPUT_COUNT && has_output(m, o)) drop_queue(m, o);
      else return MOD_STATUS_BAD_OUTPUT;
      return MOD_STATUS_OK;
    }
    case MOD_MSG_CLEAR: return on_clear(m, p[MOD_CLEAR_OUTPUT]);
    case MOD_MSG_ESTOP: latch_board(m, MOD_FAULT_ESTOP); return MOD_STATUS_OK;
    case MOD_MSG_EVENT_ACK: return on_event_ack(m, mod_get16(&p[MOD_EVENT_ACK_EVENT_ID]));
    default: return MOD_STATUS_BAD_MESSAGE;
  }
}

static void handle_frame(mod_t *m) {
  const uint8_t *f = m->rx.buf;
  uint8_t len = f[0], seq = f[1];
  const uint8_t *p = &f[2];
  uint8_t n = (uint8_t)(len - MOD_FRAME_OVERHEAD);
  uint16_t crc = mod_get16(&f[len - 3]);
  uint8_t st;

  m->last_rx_ms = m->now; /* any valid frame renews the lease */

  if (p[0] == MOD_MSG_HELLO) {
    if (n != MOD_HELLO_LEN) st = MOD_STATUS_BAD_MESSAGE;
    else if (p[MOD_HELLO_PROTOCOL_VERSION] != MOD_PROTOCOL_VERSION) st = MOD_STATUS_BAD_VERSION;
    else {
      uint16_t lease = mod_get16(&p[MOD_HELLO_LEASE_MS]);
      if (lease < MOD_LIMIT_MIN_LEASE_MS || lease > MOD_LIMIT_MAX_LEASE_MS) st = MOD_STATUS_OUT_OF_LIMIT;
      else {
        st = MOD_STATUS_OK;
        m->session = 1;
        m->lease_ms = lease;
        m->next_telemetry = m->now + MOD_LIMIT_TELEMETRY_MS;
      }
    }
    /* a HELLO starts a new sequence space: forget the previous host's last seq */
    m->have_last = st == MOD_STATUS_OK;
    m->last_seq = seq;
    m->last_crc = crc;
    m->last_status = st;
    send_ack(m, seq, st);
    if (st == MOD_STATUS_OK) send_identify(m);
    flush_events(m);
    return;
  }
  if (!m->session) { send_ack(m, seq, MOD_STATUS_NO_SESSION); return; }
  if (m->have_last && seq == m->last_seq && crc == m->last_crc) {
    send_ack(m, seq, m->last_status); /* a retransmission: answer again, apply once */
    return;
  }
  st = dispatch(m, p, n);
  m->have_last = 1;
  m->last_seq = seq;
  m->last_crc = crc;
  m->last_status = st;
  send_ack(m, seq, st);
  flush_events(m);
}

void mod_rx_byte(mod_t *m, uint8_t b) {
  if (!mod_rx_push(&m->rx, b)) return;
  do handle_frame(m); while (mod_rx_resume(&m->rx));
}

/* --------------------------------------------------------------- tick */

static void run_cmd(mod_t *m, uint8_t o, const mod_cmd_t *due) {
  mod_chan_t *c = &m->ch[o];
  mod_cmd_t r = *due;
  const mod_cmd_t *cmd = &r;
  if (cmd->kind == CMD_OFF) {
    output_off(m, o);
    mod_emit(m, MOD_EVENT_APPLIED_OFF, o, 0, 0, 0);
    return;
  }
  if (faults_for(m, o)) { /* not reachable: a latch drops the queue; kept as a guard */
    mod_emit(m, MOD_EVENT_REFUSED, o, MOD_STATUS_FAULT_LATCHED, cmd->to, cmd->at_ms);
    return;
  }
  if (cmd->kind == CMD_SET && o <= MOD_OUTPUT_TENS2) {
    /* a rising TENS set-point is followed at the slew limit: run and report it as the ramp it is */
    uint16_t present = (uint16_t)(m->tens_fine[o] / 1000u);
    if (cmd->to > present) {
      r.kind = CMD_RAMP;
      r.from = present;
      r.duration_ms = ((uint32_t)(r.to - present) * 1000u + TENS_SLEW_X10_PER_S - 1) / TENS_SLEW_X10_PER_S;
    }
  }
  if (cmd->kind == CMD_SET) {
    c->ramping = 0;
    c->value = cmd->to;
    if (o == MOD_OUTPUT_PAD) pad_new_goal(m, cmd->to);
    mod_emit(m, MOD_EVENT_APPLIED_SET, o, 0, cmd->to, 0);
    return;
  }
  /* RAMP: a TENS ramp must not start above the present amplitude (it would be a jump) */
  if (o <= MOD_OUTPUT_TENS2 && (uint32_t)cmd->from * 1000u > m->tens_fine[o]) {
    mod_emit(m, MOD_EVENT_REFUSED, o, MOD_STATUS_OUT_OF_LIMIT, cmd->to, cmd->at_ms);
    return;
  }
  if (o == MOD_OUTPUT_PAD) pad_new_goal(m, cmd->to);
  mod_emit(m, MOD_EVENT_RAMP_START, o, 0, cmd->to, cmd->duration_ms);
  if (cmd->duration_ms == 0) {
    c->ramping = 0;
    c->value = cmd->to;
    mod_emit(m, MOD_EVENT_APPLIED_SET, o, 0, cmd->to, 0);
    return;
  }
  c->ramping = 1;
  c->ramp_start = m->now;
  c->ramp_dur = cmd->duration_ms;
  c->ramp_from = cmd->from;
  c->ramp_to = cmd->to;
  c->value = cmd->from;
}

static void run_queues(mod_t *m) {
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) {
    mod_chan_t *c = &m->ch[o];
    while (c->n && since(m->now, c->q[0].at_ms) >= 0) {
      mod_cmd_t cmd = c->q[0];
      for (uint8_t i = 1; i < c->n; i++) c->q[i - 1] = c->q[i];
      c->n--;
#ifdef MOD_DEFECTS
      if (m->defects & MOD_DEFECT_DROP_DUE(o)) continue;
#endif
      run_cmd(m, o, &cmd);
    }
    if (c->ramping) {
      uint32_t el = m->now - c->ramp_start;
      if (el >= c->ramp_dur) {
        c->ramping = 0;
        c->value = c->ramp_to;
        mod_emit(m, MOD_EVENT_APPLIED_SET, o, 0, c->ramp_to, 0);
      } else {
        int32_t d = (int32_t)c->ramp_to - (int32_t)c->ramp_from;
        c->value = (uint16_t)((int32_t)c->ramp_from + (int32_t)((int64_t)d * el / (int64_t)c->ramp_dur));
      }
    }
  }
}

void mod_host_silent(mod_t *m) {
  if (!m->session) return;
  /* the host is gone: cut, report once, and close the session (no telemetry, no
   * resends, commands answered NO_SESSION) until the next HELLO */
  latch_board(m, MOD_FAULT_HOST_TIMEOUT);
  flush_events(m);
  m->session = 0;
}

static void check_safety(mod_t *m) {
  const mod_inputs_t *in = &m->in;
  if (m->session && since(m->now, m->last_rx_ms) >= (int32_t)m->lease_ms) mod_host_silent(m);
  if (in->stop) latch_board(m, MOD_FAULT_STOP_INPUT);
  if (in->pad_cx10 > PAD_OVER_X10) latch_board(m, MOD_FAULT_OVER_TEMP);
  if (m->pad_goal && in->pad_cx10 < PAD_UNDER_X10) latch_board(m, MOD_FAULT_UNDER_TEMP);
  if (in->head_cx10 > HEAD_OVER_X10) latch_board(m, MOD_FAULT_HEAD_OVER_TEMP);
}

/* Lead-off and coupling: checked after the queues so a just-applied value is never driven.
 * "Driven" is the setpoint: a falling amplitude follows it at once (update_outputs). */
static void check_contact(mod_t *m) {
  for (uint8_t o = 0; o <= MOD_OUTPUT_TENS2; o++) {
    uint8_t lost = m->in.tens_ohm[o] > MOD_LIMIT_LEAD_OFF_OHM;
    if (lost && m->ch[o].value) latch_output(m, o, MOD_FAULT_LEAD_OFF);
    if (m->out_faults[o] & BIT(MOD_FAULT_LEAD_OFF)) {
      if (lost) m->cause_gone_sent[o] = 0;
      else if (!m->cause_gone_sent[o]) {
        m->cause_gone_sent[o] = 1;
        mod_emit(m, MOD_EVENT_CAUSE_GONE, o, MOD_FAULT_LEAD_OFF, 0, 0);
      }
    }
  }
  const uint8_t us = MOD_OUTPUT_ULTRASOUND;
  if (!m->in.coupled && m->ch[us].value) latch_output(m, us, MOD_FAULT_UNCOUPLED);
  if (m->out_faults[us] & BIT(MOD_FAULT_UNCOUPLED)) {
    if (!m->in.coupled) m->cause_gone_sent[us] = 0;
    else if (!m->cause_gone_sent[us]) {
      m->cause_gone_sent[us] = 1;
      mod_emit(m, MOD_EVENT_CAUSE_GONE, us, MOD_FAULT_UNCOUPLED, 0, 0);
    }
  }
}

static void update_outputs(mod_t *m) {
  for (uint8_t o = 0; o <= MOD_OUTPUT_TENS2; o++) {
    uint32_t target = (uint32_t)m->ch[o].value * 1000u;
    uint32_t *f = &m->tens_fine[o];
    if (*f < target) *f = (target - *f > TENS_SLEW_FINE_PER_MS) ? *f + TENS_SLEW_FINE_PER_MS : target;
    else *f = target; /* falling is never limited */
    m->out.tens_x10[o] = (uint16_t)(*f / 1000u);
    uint8_t on = *f != 0;
    m->out.tens_rate_hz[o] = on ? m->tens_cfg[o].rate_hz : 0;
    m->out.tens_width_us[o] = on ? m->tens_cfg[o].width_us : 0;
  }
  m->out.us_x100 = m->ch[MOD_OUTPUT_ULTRASOUND].value;
  m->out.us_duty_pct = m->us_duty_pct;
}

static void pad_loop(mod_t *m) {
  if (!m->pad_goal) { m->out.heater_pct = 0; m->out.cooler_pct = 0; return; }
  int16_t t = m->in.pad_cx10;
  int16_t set = (int16_t)m->ch[MOD_OUTPUT_PAD].value;
  int16_t goal = (int16_t)m->pad_goal;
  int16_t err = (int16_t)(set - t);
  int32_t drive = (int32_t)(err < 0 ? -err : err) * 100 / PAD_FULL_DRIVE_ERR_X10;
  if (drive > 100) drive = 100;
  m->out.heater_pct = err > 0 ? (uint8_t)drive : 0;
  m->out.cooler_pct = err < 0 ? (uint8_t)drive : 0;

  if (!m->pad_at_target && iabs16((int16_t)(goal - t)) <= AT_TARGET_X10) {
    m->pad_at_target = 1;
    m->watch_active = 0;
    mod_emit(m, MOD_EVENT_PAD_AT_TARGET, MOD_OUTPUT_PAD, 0, m->pad_goal, 0);
  }
  if (m->watch_active && since(m->now, m->watch_deadline) >= 0) {
    int16_t moved = goal > m->watch_start ? (int16_t)(t - m->watch_start) : (int16_t)(m->watch_start - t);
    if (moved < WATCH_INC_X10) { latch_board(m, MOD_FAULT_THERMAL_RUNAWAY); return; }
    if (iabs16((int16_t)(goal - t)) > WATCH_HYST_X10) { /* re-arm, as Marlin does */
      m->watch_start = t;
      m->watch_deadline = m->now + MOD_LIMIT_WATCH_PERIOD_MS;
    } else {
      m->watch_active = 0;
    }
  }
  if (m->pad_at_target) {
    if (iabs16((int16_t)(set - t)) > WATCH_HYST_X10) {
      if (!m->stray) { m->stray = 1; m->stray_since = m->now; }
      else if (since(m->now, m->stray_since) >= MOD_LIMIT_RUNAWAY_PERIOD_MS) latch_board(m, MOD_FAULT_THERMAL_RUNAWAY);
    } else {
      m->stray = 0;
    }
  }
}

void mod_tick(mod_t *m, uint32_t now_ms, const mod_inputs_t *in) {
  m->now = now_ms;
  m->in = *in;
  check_safety(m);
  run_queues(m);
  check_contact(m);
  update_outputs(m);
  pad_loop(m);
  if (m->session && since(m->now, m->next_telemetry) >= 0) {
    send_telemetry(m);
    m->next_telemetry += MOD_LIMIT_TELEMETRY_MS;
    if (since(m->now, m->next_telemetry) >= 0) m->next_telemetry = m->now + MOD_LIMIT_TELEMETRY_MS;
  }
  flush_events(m);
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
