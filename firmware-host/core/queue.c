/*
 * Per-output queues on the board clock (docs/protocol.md, "Messages"): SET, RAMP and OFF
 * wait in atMs order and run when due; a running ramp moves the set-point each tick; the
 * TENS amplitude follows its set-point at the slew limit (falling at once).
 */
#include "board_internal.h"

void mod_output_off(mod_t *m, uint8_t o) {
  mod_chan_t *c = &m->ch[o];
  c->value = 0;
  c->ramping = 0;
  if (o <= MOD_OUTPUT_TENS2) {
    m->tens_fine[o] = 0;
    m->out.tens_x10[o] = 0;
  } else if (o == MOD_OUTPUT_ULTRASOUND) {
    m->out.us_x100 = 0;
  } else {
    mod_pad_off(m);
  }
}

void mod_cut_all(mod_t *m, uint8_t code) {
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) {
    uint8_t was = mod_driven(m, o);
    mod_drop_queue(m, o);
    mod_output_off(m, o);
    if (was) mod_emit(m, MOD_EVENT_APPLIED_OFF, o, code, 0, 0);
  }
}

uint8_t mod_driven(const mod_t *m, uint8_t o) {
  const mod_chan_t *c = &m->ch[o];
  if (c->value || c->ramping) return 1;
  if (o <= MOD_OUTPUT_TENS2) return m->tens_fine[o] != 0;
  if (o == MOD_OUTPUT_PAD) return m->pad_goal != 0;
  return 0;
}

uint8_t mod_enqueue(mod_t *m, uint8_t o, const mod_cmd_t *cmd) {
  mod_chan_t *c = &m->ch[o];
  if (c->n >= MOD_QDEPTH) return MOD_STATUS_QUEUE_FULL;
  uint8_t i = c->n;
  /* keep the queue ordered by atMs; equal times keep arrival order */
  while (i > 0 && (int32_t)(c->q[i - 1].at_ms - cmd->at_ms) > 0) { c->q[i] = c->q[i - 1]; i--; }
  c->q[i] = *cmd;
  c->n++;
  return MOD_STATUS_OK;
}

static void run_cmd(mod_t *m, uint8_t o, const mod_cmd_t *due) {
  mod_chan_t *c = &m->ch[o];
  mod_cmd_t r = *due;
  const mod_cmd_t *cmd = &r;
  if (cmd->kind == CMD_OFF) {
    mod_output_off(m, o);
    mod_emit(m, MOD_EVENT_APPLIED_OFF, o, 0, 0, 0);
    return;
  }
  if (mod_faults_for(m, o)) { /* not reachable: a latch drops the queue; kept as a guard */
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
    if (o == MOD_OUTPUT_PAD) mod_pad_new_goal(m, cmd->to);
    mod_emit(m, MOD_EVENT_APPLIED_SET, o, 0, cmd->to, 0);
    return;
  }
  /* RAMP: a TENS ramp must not start above the present amplitude (it would be a jump) */
  if (o <= MOD_OUTPUT_TENS2 && (uint32_t)cmd->from * 1000u > m->tens_fine[o]) {
    mod_emit(m, MOD_EVENT_REFUSED, o, MOD_STATUS_OUT_OF_LIMIT, cmd->to, cmd->at_ms);
    return;
  }
  if (o == MOD_OUTPUT_PAD) mod_pad_new_goal(m, cmd->to);
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

void mod_run_queues(mod_t *m) {
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

void mod_update_outputs(mod_t *m) {
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

