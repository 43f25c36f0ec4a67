/*
 * Thin hardware layer for the ATmega328P: UART, 1 ms tick, TENS pulse trains,
 * PWM outputs, ADC, stop input and the watchdog. All behaviour is in core/.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <util/atomic.h>
#include "hal.h"
#include "modality.h"

static mod_t board;
static mod_inputs_t inputs;

/* ------------------------------------------------------------ UART */
#define RX_SIZE 64 /* power of two */
#define TX_SIZE 128
static volatile uint8_t rx_buf[RX_SIZE], rx_head, rx_tail;
static volatile uint8_t tx_buf[TX_SIZE], tx_head, tx_tail;
static volatile uint8_t rx_overflows;

ISR(USART_RX_vect) {
  uint8_t b = UDR0;
  uint8_t next = (uint8_t)((rx_head + 1) & (RX_SIZE - 1));
  if (next == rx_tail) { rx_overflows++; return; } /* dropped: the CRC catches the hole */
  rx_buf[rx_head] = b;
  rx_head = next;
}

ISR(USART_UDRE_vect) {
  if (tx_head == tx_tail) { UCSR0B &= (uint8_t)~_BV(UDRIE0); return; }
  UDR0 = tx_buf[tx_tail];
  tx_tail = (uint8_t)((tx_tail + 1) & (TX_SIZE - 1));
}

static void uart_tx(const uint8_t *b, uint8_t n) {
  while (n--) {
    uint8_t next = (uint8_t)((tx_head + 1) & (TX_SIZE - 1));
    while (next == tx_tail) wdt_reset(); /* ring full: wait for the line (at most ~11 ms) */
    tx_buf[tx_head] = *b++;
    tx_head = next;
    UCSR0B |= _BV(UDRIE0);
  }
}

static void uart_init(void) {
  UCSR0A = _BV(U2X0);
  UBRR0 = 16; /* 16 MHz / (8 * 17) = 117647 baud, 2.1 % from 115200 */
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

/* ------------------------------------------------------- 1 ms tick */
static volatile uint32_t tick_ms;
ISR(TIMER2_OVF_vect) { tick_ms++; }

/* ------------------------------------------------ TENS pulse trains */
/* Timer1 runs free at 2 MHz (0.5 µs). Each channel's compare unit schedules its next edge;
 * the compare ISR drives the pulse pin as its first instruction, so both edges of a pulse
 * carry the same latency and the width is exact (the start jitters by a few µs when
 * another interrupt is being served). After each falling edge the ISR asks the core's
 * planner (core/pulse.c: burst gating, modulation) for the next pulse; it does so with
 * interrupts enabled, its own compare parked 30 ms ahead, so a planning step (one
 * division under rate modulation) never delays the other channel's edges or the tick. */
enum { P_GAP, P_RISE, P_FALL };
typedef struct {
  uint32_t remaining;     /* gap ticks still to wait */
  uint16_t width;         /* ticks, the planned (or running) pulse */
  uint16_t amp_level;     /* amplitude scale of the planned pulse, 1/1024 */
  uint8_t state;          /* what the pending compare match does */
  uint8_t on;
  mod_tens_cfg_t cfg;     /* as applied, so an unchanged setting costs nothing */
  mod_tens_train_t train;
} pulse_t;
static pulse_t pulse[2];

#define PARK 60000u /* compare increment while idle or planning (30 ms) */

/* After the falling edge (interrupts enabled by the caller): plan the next pulse. */
static void pulse_plan(pulse_t *p) {
  mod_pulse_t pl;
  mod_tens_next_pulse(&p->train, &pl);
  uint32_t gap = pl.interval_us * 2u - p->width; /* from this fall to the next rise; >= 6 ms */
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    p->remaining = gap;
    p->width = (uint16_t)(pl.width_us * 2u);
    p->amp_level = pl.amp_level;
  }
}

/* The increment to the next compare match while waiting out a gap (or idle). */
static uint16_t pulse_gap(pulse_t *p) {
  p->state = P_GAP;
  if (!p->on) { p->remaining = 0; return 20000; }
  if (p->remaining > PARK) { p->remaining -= PARK; return PARK; }
  uint16_t r = p->remaining < 40 ? 40 : (uint16_t)p->remaining;
  p->remaining = 0;
  p->state = P_RISE;
  return r;
}

/* One channel's compare match; returns the next compare value. */
static inline uint16_t pulse_edge(pulse_t *p, uint16_t ocr, volatile uint16_t *reg) {
  if (p->state == P_RISE) { p->state = P_FALL; return (uint16_t)(ocr + p->width); }
  if (p->state == P_FALL) {
    *reg = (uint16_t)(ocr + PARK); /* no match of ours while planning */
    p->state = P_GAP;
    sei();
    pulse_plan(p);
    cli();
  }
  return (uint16_t)(ocr + pulse_gap(p));
}

ISR(TIMER1_COMPA_vect) {
  uint8_t st = pulse[0].state;
  if (st == P_RISE) PORTB |= _BV(PIN_TENS1_PULSE);
  else if (st == P_FALL) PORTB &= (uint8_t)~_BV(PIN_TENS1_PULSE);
  uint16_t ocr = OCR1A;
  OCR1A = pulse_edge(&pulse[0], ocr, &OCR1A);
}
ISR(TIMER1_COMPB_vect) {
  uint8_t st = pulse[1].state;
  if (st == P_RISE) PORTB |= _BV(PIN_TENS2_PULSE);
  else if (st == P_FALL) PORTB &= (uint8_t)~_BV(PIN_TENS2_PULSE);
  uint16_t ocr = OCR1B;
  OCR1B = pulse_edge(&pulse[1], ocr, &OCR1B);
}

static uint8_t cfg_same(const mod_tens_cfg_t *a, const mod_tens_cfg_t *b) {
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  for (uint8_t i = 0; i < sizeof *a; i++) if (x[i] != y[i]) return 0;
  return 1;
}

/* Each tick: c = the channel's configuration while it is driven, NULL when off. */
static void pulse_config(uint8_t ch, const mod_tens_cfg_t *c) {
  pulse_t *p = &pulse[ch];
  if (!c) {
    if (!p->on) return;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { /* stop now, even mid-pulse */
      p->on = 0;
      p->state = P_GAP;
      p->remaining = 0;
      PORTB &= (uint8_t)~(ch ? _BV(PIN_TENS2_PULSE) : _BV(PIN_TENS1_PULSE));
    }
    return;
  }
  if (p->on && cfg_same(&p->cfg, c)) return;
  /* (re)start the train: its first pulse at the next compare match (within 10 ms idle, 30 ms in
   * a long gap); a pulse in flight ends at its own width and counts as the train's first */
  mod_tens_train_t t;
  mod_pulse_t first;
  mod_tens_train_reset(&t, c);
  mod_tens_next_pulse(&t, &first);
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    p->cfg = *c;
    p->train = t;
    if (p->state != P_FALL) {
      p->width = (uint16_t)(first.width_us * 2u);
      p->amp_level = first.amp_level;
      p->state = P_GAP;
      p->remaining = 0;
    }
    p->on = 1;
  }
}

static uint16_t pulse_amp_level(uint8_t ch) {
  if (!pulse[ch].on || pulse[ch].cfg.mod_kind != MOD_TENS_MOD_AMPLITUDE) return MOD_LEVEL_FULL;
  uint16_t v;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { v = pulse[ch].on ? pulse[ch].amp_level : MOD_LEVEL_FULL; }
  return v;
}

/* ------------------------------------------------------------- ADC */
static volatile uint16_t adc[ADC_CHANNELS];
static uint8_t adc_ch;

static void adc_start(uint8_t ch) { ADMUX = (uint8_t)(_BV(REFS0) | ch); ADCSRA |= _BV(ADSC); }

static void adc_poll(void) {
  if (ADCSRA & _BV(ADSC)) return;
  adc[adc_ch] = ADC;
  adc_ch = (uint8_t)((adc_ch + 1) % ADC_CHANNELS);
  adc_start(adc_ch);
}

static void adc_init(void) {
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0); /* 125 kHz */
  DIDR0 = 0x1F;
  /* one blocking round so the first tick sees real inputs, not zeros (a zero pad reading is "hot") */
  for (uint8_t i = 0; i <= ADC_CHANNELS; i++) {
    adc_start(adc_ch);
    while (ADCSRA & _BV(ADSC)) {}
    adc[adc_ch] = ADC;
    adc_ch = (uint8_t)((adc_ch + 1) % ADC_CHANNELS);
  }
  adc_start(adc_ch);
}

/* The analog inputs, converted after the outputs of a tick are written (off the latency
 * path: the divisions cost ~200 µs); the stop pin is read at the start of every tick. */
static void read_inputs(void) {
  uint16_t a[ADC_CHANNELS];
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { for (uint8_t i = 0; i < ADC_CHANNELS; i++) a[i] = adc[i]; }
  inputs.pad_cx10 = mod_adc_to_cx10(a[ADC_PAD_NTC]);
  inputs.head_cx10 = mod_adc_to_cx10(a[ADC_HEAD_NTC]);
  inputs.tens_ohm[0] = mod_adc_to_ohm(a[ADC_TENS1_Z]);
  inputs.tens_ohm[1] = mod_adc_to_ohm(a[ADC_TENS2_Z]);
  inputs.coupled = a[ADC_COUPLING] > 512;
}

/* --------------------------------------------------------- outputs */
static void pwm0(uint8_t chan, uint8_t v) { /* Timer0: chan 0 = OC0A, 1 = OC0B; 0 disconnects (a true zero) */
  uint8_t com = chan ? _BV(COM0B1) : _BV(COM0A1);
  if (chan) OCR0B = v; else OCR0A = v;
  if (v) TCCR0A |= com; else TCCR0A &= (uint8_t)~com;
}

#if MOD_LIMIT_MAX_TENS_MA != 80 || MOD_LIMIT_MAX_US_WPER_CM2 != 3
#error "the PWM scaling below assumes 80 mA and 3 W/cm² full scale"
#endif
/* Counters instead of 32-bit modulo of the board ms (a 32-bit division is ~40 µs on the AVR). */
static uint8_t us_gate_phase, pad_phase;

static void apply_outputs(void) {
  const mod_outputs_t *o = &board.out;
  /* ultrasound first: its enable pin is the benchmarks' timing probe */
  uint8_t us = (uint8_t)((uint16_t)(o->us_x100 * 83u) / 100u); /* x * 249 / 300, in 16 bits */
  OCR2B = us;
  if (us) TCCR2A |= _BV(COM2B1); else TCCR2A &= (uint8_t)~_BV(COM2B1);
  uint8_t on_ms = (uint8_t)((o->us_duty_pct + 5) / 10);
  if (o->us_duty_pct && !on_ms) on_ms = 1;
  if (us && us_gate_phase < on_ms) PORTD |= _BV(PIN_US_EN); else PORTD &= (uint8_t)~_BV(PIN_US_EN);
  if (++us_gate_phase >= US_GATE_PERIOD_MS) us_gate_phase = 0;
  for (uint8_t ch = 0; ch < 2; ch++) {
    uint16_t amp = o->tens_x10[ch];
    pulse_config(ch, amp && o->tens_rate_hz[ch] ? &board.tens_cfg[ch] : 0);
    uint16_t pwm = (uint16_t)(amp * 51u) / 160u; /* amp * 255 / 800, in 16 bits */
    /* amplitude modulation scales the set-point for the next pulse (set when it is planned,
     * so the filtered level has settled when the pulse fires) */
    pwm0(ch, (uint8_t)(((uint32_t)pwm * pulse_amp_level(ch)) >> 10));
  }
  uint8_t phase = pad_phase;
  if (++pad_phase >= PAD_PWM_WINDOW_MS) pad_phase = 0;
  if (phase < o->heater_pct) PORTB |= _BV(PIN_HEATER); else PORTB &= (uint8_t)~_BV(PIN_HEATER);
  if (phase < o->cooler_pct) PORTB |= _BV(PIN_COOLER); else PORTB &= (uint8_t)~_BV(PIN_COOLER);
  if (board.session) PORTB |= _BV(PIN_LED); else PORTB &= (uint8_t)~_BV(PIN_LED);
}

static void io_init(void) {
  /* every output low = off before anything else */
  PORTB = 0;
  DDRB = _BV(PIN_HEATER) | _BV(PIN_TENS1_PULSE) | _BV(PIN_TENS2_PULSE) | _BV(PIN_COOLER) | _BV(PIN_LED);
  PORTD = _BV(PIN_STOP); /* pull-up on the stop input */
  DDRD = _BV(PIN_US_PWM) | _BV(PIN_US_EN) | _BV(PIN_TENS2_AMP) | _BV(PIN_TENS1_AMP);
  /* Timer0: fast PWM 8 bit, /64 (976 Hz), outputs disconnected until driven */
  TCCR0A = _BV(WGM01) | _BV(WGM00);
  TCCR0B = _BV(CS01) | _BV(CS00);
  /* Timer2: fast PWM, TOP = OCR2A = 249, /64: overflows at exactly 1 kHz = the board tick */
  OCR2A = 249;
  TCCR2A = _BV(WGM21) | _BV(WGM20);
  TCCR2B = _BV(WGM22) | _BV(CS22);
  TIMSK2 = _BV(TOIE2);
  /* Timer1: normal mode, /8 = 2 MHz; compare interrupts time the pulse edges */
  TCCR1A = 0;
  TCCR1B = _BV(CS11);
  OCR1A = 20000;
  OCR1B = 30000;
  TIMSK1 = _BV(OCIE1A) | _BV(OCIE1B);
}

int main(void) {
  MCUSR = 0;
  wdt_disable();
  io_init();
  adc_init();
  read_inputs();
  uart_init();
  mod_init(&board, uart_tx);
  wdt_enable(WDTO_120MS);
  sei();
  uint32_t core_ms = 0;
  for (;;) {
    wdt_reset();
    uint32_t now;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { now = tick_ms; }
    while (core_ms != now) { /* every millisecond is ticked, even after a long pass */
      core_ms++;
      inputs.stop = (PIND & _BV(PIN_STOP)) != 0;
      mod_tick(&board, core_ms, &inputs);
      apply_outputs();
      read_inputs(); /* for the next tick */
    }
    while (rx_tail != rx_head) {
      uint8_t b = rx_buf[rx_tail];
      rx_tail = (uint8_t)((rx_tail + 1) & (RX_SIZE - 1));
      mod_rx_byte(&board, b);
    }
    adc_poll();
  }
}
