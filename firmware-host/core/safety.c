/*
 * Safety the board keeps whatever the host says (docs/protocol.md, "What the board does
 * on its own"): limits on every value, latches (board-wide and per output), CLEAR, the
 * lease, the patient stop input, lead-off and coupling. The thermal checks are thermal.c's.
 */
#include "board_internal.h"

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

uint8_t mod_has_output(const mod_t *m, uint8_t o) {
  if (o <= MOD_OUTPUT_TENS2) return o < m->tens_channels;
  if (o == MOD_OUTPUT_ULTRASOUND) return m->has_us;
  return o == MOD_OUTPUT_PAD && m->has_pad;
}

uint8_t mod_check_value(const mod_t *m, uint8_t o, uint16_t v) {
  if (o <= MOD_OUTPUT_TENS2) {
    if (v > m->max_tens_x10 || !mod_tens_density_ok(&m->tens_cfg[o], v)) return MOD_STATUS_OUT_OF_LIMIT;
  } else if (o == MOD_OUTPUT_ULTRASOUND) {
    if (v > US_MAX_X100) return MOD_STATUS_OUT_OF_LIMIT;
  } else {
    if (v < PAD_MIN_X10 || v > PAD_MAX_X10) return MOD_STATUS_OUT_OF_LIMIT;
  }
  return MOD_STATUS_OK;
}

/* ------------------------------------------------------------ latches */

uint16_t mod_all_faults(const mod_t *m) {
  uint16_t f = m->board_faults;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) f |= m->out_faults[o];
  return f;
}

/* A board-wide latch: every queue dropped, every output off; one APPLIED_OFF (with the
 * cause) for each output that was driven, then FAULT_LATCHED for 0xFF. */
void mod_latch_board(mod_t *m, uint8_t code) {
  if (m->board_faults & BIT(code)) return;
#ifdef MOD_DEFECTS
  if (code == MOD_FAULT_THERMAL_RUNAWAY && (m->defects & MOD_DEFECT_NO_RUNAWAY)) return;
#endif
  m->board_faults |= BIT(code);
  mod_cut_all(m, code);
  mod_emit(m, MOD_EVENT_FAULT_LATCHED, MOD_OUTPUT_ALL, code, 0, 0);
}

/* An output latch (lead-off, uncoupled): APPLIED_OFF then FAULT_LATCHED for that output. */
void mod_latch_output(mod_t *m, uint8_t o, uint8_t code) {
  if (m->out_faults[o] & BIT(code)) return;
  m->out_faults[o] |= BIT(code);
  m->cause_gone_sent[o] = 0;
  mod_drop_queue(m, o);
  mod_output_off(m, o);
  mod_emit(m, MOD_EVENT_APPLIED_OFF, o, code, 0, 0);
  mod_emit(m, MOD_EVENT_FAULT_LATCHED, o, code, 0, 0);
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

uint8_t mod_clear_faults(mod_t *m, uint8_t o) {
  uint16_t cleared = 0;
  if (o == MOD_OUTPUT_ALL) {
    if (causes_present(m, m->board_faults, 0xFF)) return MOD_STATUS_CAUSE_PRESENT;
    for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++)
      if (causes_present(m, m->out_faults[i], i)) return MOD_STATUS_CAUSE_PRESENT;
    cleared = mod_all_faults(m);
    m->board_faults = 0;
    for (uint8_t i = 0; i < MOD_OUTPUT_COUNT; i++) m->out_faults[i] = 0;
  } else if (o < MOD_OUTPUT_COUNT && mod_has_output(m, o)) {
    if (causes_present(m, m->out_faults[o], o)) return MOD_STATUS_CAUSE_PRESENT;
    cleared = m->out_faults[o];
    m->out_faults[o] = 0;
  } else {
    return MOD_STATUS_BAD_OUTPUT;
  }
  if (cleared) mod_emit(m, MOD_EVENT_FAULT_CLEARED, o, 0, cleared, 0);
  return MOD_STATUS_OK;
}

/* ------------------------------------------------ lease, stop, contact */

void mod_host_silent(mod_t *m) {
  if (!m->session) return;
  /* the host is gone: cut, report once, and close the session (no telemetry, no
   * resends, commands answered NO_SESSION) until the next HELLO */
  mod_latch_board(m, MOD_FAULT_HOST_TIMEOUT);
  mod_flush_events(m);
  m->session = 0;
}

void mod_check_safety(mod_t *m) {
  const mod_inputs_t *in = &m->in;
  if (m->session && since(m->now, m->last_rx_ms) >= (int32_t)m->lease_ms) mod_host_silent(m);
  if (in->stop) mod_latch_board(m, MOD_FAULT_STOP_INPUT);
}

/* Lead-off and coupling: checked after the queues so a just-applied value is never driven.
 * "Driven" is the setpoint: a falling amplitude follows it at once (mod_update_outputs). */
void mod_check_contact(mod_t *m) {
  for (uint8_t o = 0; o <= MOD_OUTPUT_TENS2; o++) {
    uint8_t lost = m->in.tens_ohm[o] > MOD_LIMIT_LEAD_OFF_OHM;
    if (lost && m->ch[o].value) mod_latch_output(m, o, MOD_FAULT_LEAD_OFF);
    if (m->out_faults[o] & BIT(MOD_FAULT_LEAD_OFF)) {
      if (lost) m->cause_gone_sent[o] = 0;
      else if (!m->cause_gone_sent[o]) {
        m->cause_gone_sent[o] = 1;
        mod_emit(m, MOD_EVENT_CAUSE_GONE, o, MOD_FAULT_LEAD_OFF, 0, 0);
      }
    }
  }
  const uint8_t us = MOD_OUTPUT_ULTRASOUND;
  if (!m->in.coupled && m->ch[us].value) mod_latch_output(m, us, MOD_FAULT_UNCOUPLED);
  if (m->out_faults[us] & BIT(MOD_FAULT_UNCOUPLED)) {
    if (!m->in.coupled) m->cause_gone_sent[us] = 0;
    else if (!m->cause_gone_sent[us]) {
      m->cause_gone_sent[us] = 1;
      mod_emit(m, MOD_EVENT_CAUSE_GONE, us, MOD_FAULT_UNCOUPLED, 0, 0);
    }
  }
}

