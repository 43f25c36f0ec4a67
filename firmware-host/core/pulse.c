/*
 * TENS pulse planner: burst gating and rate / width / amplitude modulation (see modality.h).
 * Integer only. The divisions are done once per configuration in mod_tens_train_reset();
 * per pulse there are only additions, shifts and 32-bit multiplies, plus one division
 * when the rate is modulated.
 */
#include "modality.h"

#define US_PER_S 1000000UL
#define MAX_MOD_DS 42000u /* 4200 s: the sweep period in µs must fit 32 bits */

void mod_tens_train_reset(mod_tens_train_t *t, const mod_tens_cfg_t *c) {
  uint8_t *p = (uint8_t *)t;
  for (uint16_t i = 0; i < sizeof *t; i++) p[i] = 0;
  t->period_us = c->rate_hz ? US_PER_S / c->rate_hz : US_PER_S;
  t->width_us = c->width_us;
  if (c->bursts_per_s && c->pulses_per_burst) {
    t->burst_us = US_PER_S / c->bursts_per_s;
    t->ppb = c->pulses_per_burst;
  }
  t->level = MOD_LEVEL_FULL;
  if (c->mod_kind >= MOD_TENS_MOD_RATE && c->mod_kind <= MOD_TENS_MOD_AMPLITUDE && c->mod_period_ds && c->mod_min_pct < 100) {
    uint16_t ds = c->mod_period_ds > MAX_MOD_DS ? MAX_MOD_DS : c->mod_period_ds;
    t->kind = c->mod_kind;
    t->mod_us = (uint32_t)ds * 100000UL;
    t->mod_half = t->mod_us / 2;
    uint32_t h = t->mod_half;
    while (h > 0xFFFFu) { h >>= 1; t->mod_shift++; }
    t->mod_k = ((1UL << 30) + h - 1) / h; /* rounded up so the floor is reached (frac is clamped) */
    /* rounded up: the sweep never goes below mod_min_pct */
    t->min_level = (uint16_t)(((uint32_t)c->mod_min_pct * MOD_LEVEL_FULL + 99u) / 100u);
  }
}

uint16_t mod_tens_level(const mod_tens_train_t *t, uint32_t phase_us) {
  if (!t->kind) return MOD_LEVEL_FULL;
  /* triangle: 100 % at phase 0, the floor at half the period, 100 % again at the end */
  uint32_t x = phase_us < t->mod_half ? phase_us : t->mod_us - phase_us;
  uint32_t frac = ((x >> t->mod_shift) * t->mod_k) >> 14; /* x / half, 1/65536 */
  if (frac > 65536UL) frac = 65536UL;
  return (uint16_t)(MOD_LEVEL_FULL - (((uint32_t)(MOD_LEVEL_FULL - t->min_level) * frac) >> 16));
}

void mod_tens_next_pulse(mod_tens_train_t *t, mod_pulse_t *out) {
  uint32_t interval = 0;
  if (!t->started) {
    t->started = 1;
    t->n = 1;
  } else {
    interval = t->period_us;
    if (t->kind == MOD_TENS_MOD_RATE && t->level < MOD_LEVEL_FULL) { /* the rate of the last pulse's instant */
      uint16_t lv = t->level ? t->level : 1;
      interval = t->period_us * MOD_LEVEL_FULL / lv;
      if (interval > US_PER_S) interval = US_PER_S; /* the 1 Hz floor */
    }
    if (t->ppb) {
      uint32_t since = t->in_burst_us + interval;
      if (t->n >= t->ppb || since >= t->burst_us) { /* the next train */
        interval = t->burst_us - t->in_burst_us;
        t->in_burst_us = 0;
        t->n = 1;
      } else {
        t->in_burst_us = since;
        t->n++;
      }
    }
    t->t_us += interval;
    if (t->kind) {
      t->phase_us += interval;
      while (t->phase_us >= t->mod_us) t->phase_us -= t->mod_us;
    }
  }
  t->level = mod_tens_level(t, t->phase_us);
  uint16_t w = t->width_us;
  if (t->kind == MOD_TENS_MOD_WIDTH) {
    w = (uint16_t)(((uint32_t)t->width_us * t->level) >> 10);
    uint16_t floor = MOD_LIMIT_MIN_TENS_PULSE_WIDTH_US < t->width_us ? (uint16_t)MOD_LIMIT_MIN_TENS_PULSE_WIDTH_US : t->width_us;
    if (w < floor) w = floor;
  }
  out->start_us = t->t_us;
  out->interval_us = interval;
  out->width_us = w;
  out->amp_level = t->kind == MOD_TENS_MOD_AMPLITUDE ? t->level : (uint16_t)MOD_LEVEL_FULL;
}
