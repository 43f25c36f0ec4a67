/*
 * The board's private header: what the parts of core/ share and nothing outside
 * core/ may use (the hardware layers and the tests see modality.h only).
 *
 *   board.c     mod_init, mod_tick (the order of one board millisecond), mod_next_wake, mod_steady
 *   dispatch.c  received frames: HELLO, BYE and session, repeats, the command dispatch and its
 *               length check (expanded from MOD_HOST_MESSAGES), one on_<MESSAGE> handler each
 *   queue.c     per-output queues on the board clock, ramps, the TENS slew, outputs off
 *   safety.c    limits, latches, CLEAR, lease, stop input, lead-off and coupling
 *   thermal.c   pad temperature guard, pad loop, thermal runaway watch
 *   events.c    the reliable event queue: emit, flush, resend, EVENT_ACK; the EVENT frame
 *   tx.c        framing what the board sends; ACK, IDENTIFY, TELEMETRY
 */
#ifndef MOD_BOARD_INTERNAL_H
#define MOD_BOARD_INTERNAL_H

#include "modality.h"

#define BIT(code) ((uint16_t)(1u << ((code) - 1)))
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

static inline int32_t since(uint32_t now, uint32_t t) { return (int32_t)(now - t); }
static inline int16_t iabs16(int16_t v) { return v < 0 ? (int16_t)-v : v; }

/* ---- dispatch.c ---- (mod_rx_byte is public) */

/* ---- queue.c ---- */
static inline void mod_drop_queue(mod_t *m, uint8_t o) { m->ch[o].n = 0; }
static inline uint8_t mod_is_late(const mod_t *m, uint32_t at) {
  return since(m->now, at) > MOD_LIMIT_LATE_TOLERANCE_MS;
}
/* Insert by atMs (equal times keep arrival order); QUEUE_FULL when the queue is full. */
uint8_t mod_enqueue(mod_t *m, uint8_t o, const mod_cmd_t *cmd);
/* Run every due command, then advance the running ramps. */
void mod_run_queues(mod_t *m);
/* The output's set-point and drive to zero, its ramp stopped (the queue is the caller's). */
void mod_output_off(mod_t *m, uint8_t o);
/* Every queue dropped, every output off; APPLIED_OFF (with `code`, 0 when commanded) for
 * each output that was driven. A board-wide latch and BYE. */
void mod_cut_all(mod_t *m, uint8_t code);
/* Is the output doing anything (a value, a ramp, a slewing TENS level, a pad goal)? */
uint8_t mod_driven(const mod_t *m, uint8_t o);
/* The drive values in m->out from the set-points: TENS follows at the slew limit. */
void mod_update_outputs(mod_t *m);

/* ---- safety.c ---- (mod_tens_density_ok and mod_host_silent are public) */
uint8_t mod_has_output(const mod_t *m, uint8_t o);
/* MOD_STATUS_OK or OUT_OF_LIMIT for value v on output o. */
uint8_t mod_check_value(const mod_t *m, uint8_t o, uint16_t v);
static inline uint16_t mod_faults_for(const mod_t *m, uint8_t o) {
  return (uint16_t)(m->board_faults | m->out_faults[o]);
}
uint16_t mod_all_faults(const mod_t *m);
void mod_latch_board(mod_t *m, uint8_t code);
void mod_latch_output(mod_t *m, uint8_t o, uint8_t code);
/* CLEAR of output o (0xFF: all): a status, FAULT_CLEARED when something was cleared. */
uint8_t mod_clear_faults(mod_t *m, uint8_t o);
/* Lease and stop input, at the start of a tick. */
void mod_check_safety(mod_t *m);
/* Lead-off and coupling, after the queues. */
void mod_check_contact(mod_t *m);

/* ---- thermal.c ---- */
/* Over-temperature (pad, head) and under-temperature (a driven pad): board-wide latches. */
void mod_thermal_guard(mod_t *m);
/* A new pad target: arms the runaway watch when it is far from the present temperature. */
void mod_pad_new_goal(mod_t *m, uint16_t goal);
/* The pad unpowered: no goal, no watch, no drive. */
void mod_pad_off(mod_t *m);
/* Heater/cooler drive, PAD_AT_TARGET, and the runaway watch (latches THERMAL_RUNAWAY). */
void mod_pad_loop(mod_t *m);

/* ---- events.c ---- (mod_emit is public) */
/* Send every event due (new, or unacknowledged for eventRetryMs), oldest first, in a session. */
void mod_flush_events(mod_t *m);
void mod_ack_event(mod_t *m, uint16_t id);

/* ---- tx.c ---- */
/* Frame payload[0..n) with the next m->tx_seq and hand it to the tx callback. */
void mod_send(mod_t *m, const uint8_t *payload, uint8_t n);
void mod_send_ack(mod_t *m, uint8_t seq, uint8_t status);
void mod_send_identify(mod_t *m);
void mod_send_telemetry(mod_t *m);

#endif
