/*
 * The pad and the head's temperatures (docs/protocol.md, "What the board does on its
 * own"): over- and under-temperature latches, the pad's proportional loop, and the
 * thermal runaway watch (Marlin's: a far target must be approached by watchIncrease
 * within watchPeriod; once at target, straying past the hysteresis for runawayPeriod latches).
 */
#include "board_internal.h"

/* Pad loop: proportional, full drive at this error (0.1 °C). */
#define PAD_FULL_DRIVE_ERR_X10 10

void mod_thermal_guard(mod_t *m) {
  const mod_inputs_t *in = &m->in;
  if (in->pad_cx10 > PAD_OVER_X10) mod_latch_board(m, MOD_FAULT_OVER_TEMP);
  if (m->pad_goal && in->pad_cx10 < PAD_UNDER_X10) mod_latch_board(m, MOD_FAULT_UNDER_TEMP);
  if (in->head_cx10 > HEAD_OVER_X10) mod_latch_board(m, MOD_FAULT_HEAD_OVER_TEMP);
}

void mod_pad_new_goal(mod_t *m, uint16_t goal) {
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

void mod_pad_off(mod_t *m) {
  m->pad_goal = 0;
  m->pad_at_target = 0;
  m->watch_active = 0;
  m->stray = 0;
  m->out.heater_pct = 0;
  m->out.cooler_pct = 0;
}

void mod_pad_loop(mod_t *m) {
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
    if (moved < WATCH_INC_X10) { mod_latch_board(m, MOD_FAULT_THERMAL_RUNAWAY); return; }
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
      else if (since(m->now, m->stray_since) >= MOD_LIMIT_RUNAWAY_PERIOD_MS) mod_latch_board(m, MOD_FAULT_THERMAL_RUNAWAY);
    } else {
      m->stray = 0;
    }
  }
}
