/*
 * modality-simavr: boots the board firmware ELF on simavr (ATmega328P @ 16 MHz) with
 * UART0 on a pseudo-terminal, paced to the wall clock, and a line control channel
 * on stdin/stdout for tests.
 *
 *   modality-simavr [--speed N] [--quiet] build/modality.elf
 *     --speed N   simulated seconds per wall second (default 1; 0 = as fast as it goes)
 *
 * stdout: "pty /dev/pts/N" once the UART is bridged, the path alone on the next line,
 * then "ready"; after that one answer line per command.
 * stdin commands (one per line):
 *   stop 0|1          patient stop input released / pressed (pin PD2 low / high)
 *   adc <ch> <value>  drive ADC channel ch with a raw 10-bit reading (0..1023)
 *   pins?             one line: "pins ms=<board sim ms> key=value ..." (see README)
 *   ms?               "ms <simulated milliseconds since boot>"
 *   edges?            "edges now=<cycle> epoch=<cycle> lastrx=<cycle> <pin><+|-><cycle> ..." and forget
 *                     them: the changes of the slow outputs (usen, heat, cool, led) and of the stop
 *                     input since the last query, in CPU cycles (16 per µs); board tick k (the
 *                     firmware's boardMs = k) is at cycle epoch + 16000 k (Timer2 overflows);
 *                     lastrx = when the last byte entered the UART's input (the pty feeds them in
 *                     bursts, the UART then takes 10 bits a byte), lastrxisr = when the firmware's
 *                     receive interrupt last started (the byte is in)
 *   edges? pulses     the same answer for the TENS pulse pins t1 and t2 (PB1, PB2), from their own
 *                     ring (8192 edges), so the fast trains never crowd out the slow outputs; a rising
 *                     edge carries the channel's amplitude PWM compare value then: t1+<cycle>:<0..255>
 *   isr?              "isr v<n>=<max cycles> ..." the longest run of each interrupt vector since the
 *                     last query (entry to RETI, nested interrupts included), and forget them
 *   quit              exit
 * EOF on stdin also exits, so the runner never outlives its parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <simavr/avr_adc.h>
#include <simavr/avr_ioport.h>
#include <simavr/parts/uart_pty.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_irq.h>
#include <simavr/sim_time.h>
#include <simavr/avr_uart.h>

/* exported by libsimavrparts but missing from its header */
avr_cycle_count_t uart_pty_flush_timer(struct avr_t *avr, avr_cycle_count_t when, void *param);

#define F_CPU 16000000ULL
/* ATmega328P data-space addresses of the registers we read */
#define R_TCCR0A 0x44
#define R_OCR0A 0x47
#define R_OCR0B 0x48
#define R_TCCR2A 0xB0
#define R_OCR2B 0xB4

static avr_t *avr;
static uart_pty_t uart;
static int quiet;

/* ---- watched digital outputs ---- */
typedef struct {
  const char *name;
  char port;
  int bit;
  int level;
  avr_cycle_count_t last_change, last_rise, prev_rise;
  avr_cycle_count_t high_acc, win_duty_pct;
  uint32_t rises;
  uint32_t width_us;
} pin_t;

enum { P_HEAT, P_TENS1, P_TENS2, P_COOL, P_LED, P_USEN, P_COUNT };
static pin_t pins[P_COUNT] = {
  [P_HEAT] = {"heat", 'B', 0}, [P_TENS1] = {"t1", 'B', 1}, [P_TENS2] = {"t2", 'B', 2},
  [P_COOL] = {"cool", 'B', 4}, [P_LED] = {"led", 'B', 5}, [P_USEN] = {"usen", 'D', 4},
};
#define WINDOW_CYCLES (F_CPU / 10) /* duty measured over 100 ms windows */

/* ---- a ring of timed edges of the slow outputs and the stop input, for benchmarks ---- */
#define EDGE_RING 512
typedef struct { const char *name; int level; avr_cycle_count_t cycle; int amp; } edge_t;
typedef struct { edge_t *e; unsigned size, head, count; } ring_t;
static edge_t slow_edges[EDGE_RING];
static ring_t slow_ring = {slow_edges, EDGE_RING, 0, 0};
#define PULSE_RING 8192
static edge_t pulse_edges[PULSE_RING];
static ring_t pulse_ring = {pulse_edges, PULSE_RING, 0, 0};
static avr_cycle_count_t last_rx_cycle;

static void ring_add(ring_t *r, const char *name, int level, avr_cycle_count_t cycle, int amp) {
  r->e[r->head] = (edge_t){name, level, cycle, amp};
  r->head = (r->head + 1) % r->size;
  if (r->count < r->size) r->count++;
}
static void edge_add(const char *name, int level, avr_cycle_count_t cycle) { ring_add(&slow_ring, name, level, cycle, -1); }

/* ---- interrupt routines' run times (entry to RETI), per vector ---- */
#define VECTORS 26
static avr_cycle_count_t isr_entry[VECTORS], isr_max[VECTORS];
static avr_cycle_count_t last_rx_isr_cycle; /* the firmware's USART_RX routine last started: a byte is in */
static void isr_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  int v = (int)(intptr_t)param;
  if (value) { isr_entry[v] = avr->cycle; if (v == 18 /* USART_RX */) last_rx_isr_cycle = avr->cycle; }
  else if (isr_entry[v] && avr->cycle - isr_entry[v] > isr_max[v]) isr_max[v] = avr->cycle - isr_entry[v];
}

static avr_cycle_count_t last_tick;
static void tick_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  if (value) last_tick = avr->cycle; /* TIMER2_OVF became pending: a board tick */
}

static void rx_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)value; (void)param;
  last_rx_cycle = avr->cycle;
}

static void account(pin_t *p, avr_cycle_count_t now) {
  if (p->level) p->high_acc += now - p->last_change;
  p->last_change = now;
}

static void pin_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  pin_t *p = param;
  int level = (int)(value & 1); /* simavr may add the AVR_IOPORT_OUTPUT flag (0x100) */
  if (level == p->level) return;
  avr_cycle_count_t now = avr->cycle;
  account(p, now);
  p->level = level;
  if (p != &pins[P_TENS1] && p != &pins[P_TENS2]) edge_add(p->name, level, now);
  else {
    /* the amplitude the pulse starts with: the channel's PWM compare while it is connected */
    int t1 = p == &pins[P_TENS1];
    uint8_t com = avr->data[R_TCCR0A] & (t1 ? 0x80 : 0x20);
    ring_add(&pulse_ring, p->name, level, now, level ? (com ? avr->data[t1 ? R_OCR0A : R_OCR0B] : 0) : -1);
  }
  if (level) { p->prev_rise = p->last_rise; p->last_rise = now; p->rises++; }
  else if (p->last_rise) p->width_us = (uint32_t)((now - p->last_rise) * 1000000ULL / F_CPU);
}

static avr_cycle_count_t window_timer(struct avr_t *a, avr_cycle_count_t when, void *param) {
  (void)param; (void)a;
  for (int i = 0; i < P_COUNT; i++) {
    account(&pins[i], when);
    pins[i].win_duty_pct = pins[i].high_acc * 100 / WINDOW_CYCLES;
    pins[i].high_acc = 0;
  }
  return when + WINDOW_CYCLES;
}

/* Feed bytes from the pty into the UART every 0.5 ms whatever the xon state says:
 * the stock part only arms its flush timer from the xon hook. */
static avr_cycle_count_t pty_pump(struct avr_t *a, avr_cycle_count_t when, void *param) {
  uart_pty_t *u = param;
  u->xon = 1;
  uart_pty_flush_timer(a, when, u);
  return when + avr_usec_to_cycles(a, 500);
}

static void set_adc(int ch, int raw) {
  if (raw < 0) raw = 0;
  if (raw > 1023) raw = 1023;
  /* simavr converts millivolts as mv * 1023 / aref: pick the smallest mv giving `raw` */
  uint32_t mv = (uint32_t)((raw * 5000 + 1022) / 1023);
  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + ch), mv);
}

/* The stop switch drives PD2 against the firmware's pull-up: declare it as the pin's
 * external state (so the pull-up does not win) and raise the pin. */
static int stop_level;
#define R_PIND 0x29
static void set_stop(int on) {
  if ((on ? 1 : 0) != stop_level) edge_add("stop", on ? 1 : 0, avr->cycle);
  stop_level = on ? 1 : 0;
  avr_ioport_external_t e = {.name = 'D', .mask = 1 << 2, .value = (unsigned)(stop_level << 2)};
  avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &e);
  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 2), (uint32_t)stop_level);
}

static uint32_t hz_of(pin_t *p, avr_cycle_count_t now) {
  if (!p->prev_rise || now - p->last_rise > 2 * F_CPU) return 0;
  avr_cycle_count_t d = p->last_rise - p->prev_rise;
  return d ? (uint32_t)((F_CPU + d / 2) / d) : 0;
}

static void print_pins(void) {
  avr_cycle_count_t now = avr->cycle;
  uint8_t tccr0a = avr->data[R_TCCR0A], tccr2a = avr->data[R_TCCR2A];
  int t1amp = (tccr0a & 0x80) ? avr->data[R_OCR0A] : 0; /* COM0A1 */
  int t2amp = (tccr0a & 0x20) ? avr->data[R_OCR0B] : 0; /* COM0B1 */
  int us = (tccr2a & 0x20) ? avr->data[R_OCR2B] : 0;     /* COM2B1 */
  pin_t *t1 = &pins[P_TENS1], *t2 = &pins[P_TENS2];
  int t1on = hz_of(t1, now) != 0, t2on = hz_of(t2, now) != 0;
  printf("pins ms=%llu t1amp=%d t2amp=%d us=%d usen=%d heat=%d cool=%d led=%d "
         "t1hz=%u t1us=%u t1n=%u t2hz=%u t2us=%u t2n=%u\n",
         (unsigned long long)(now * 1000 / F_CPU), t1amp, t2amp, us, (int)pins[P_USEN].win_duty_pct,
         (int)pins[P_HEAT].win_duty_pct, (int)pins[P_COOL].win_duty_pct, pins[P_LED].level,
         hz_of(t1, now), t1on ? t1->width_us : 0, t1->rises, hz_of(t2, now), t2on ? t2->width_us : 0, t2->rises);
}

static void print_edges(ring_t *r) {
  avr_cycle_count_t now = avr->cycle;
  /* Timer2 (fast PWM, TOP 249, /64) overflows every 16000 cycles: board tick k is at epoch + k * 16000 */
  avr_cycle_count_t epoch = last_tick % 16000;
  printf("edges now=%llu epoch=%llu lastrx=%llu lastrxisr=%llu", (unsigned long long)now, (unsigned long long)epoch,
         (unsigned long long)last_rx_cycle, (unsigned long long)last_rx_isr_cycle);
  unsigned start = (r->head + r->size - r->count) % r->size;
  for (unsigned i = 0; i < r->count; i++) {
    edge_t *e = &r->e[(start + i) % r->size];
    printf(" %s%c%llu", e->name, e->level ? '+' : '-', (unsigned long long)e->cycle);
    if (e->amp >= 0) printf(":%d", e->amp);
  }
  putchar('\n');
  r->count = 0;
}

static int command(char *line) {
  int a, b;
  if (sscanf(line, "stop %d", &a) == 1) { set_stop(a); puts("ok"); }
  else if (sscanf(line, "adc %d %d", &a, &b) == 2 && a >= 0 && a < 8) { set_adc(a, b); puts("ok"); }
  else if (strncmp(line, "pins?", 5) == 0) print_pins();
  else if (strncmp(line, "edges? pulses", 13) == 0) print_edges(&pulse_ring);
  else if (strncmp(line, "edges?", 6) == 0) print_edges(&slow_ring);
  else if (strncmp(line, "isr?", 4) == 0) {
    printf("isr");
    for (int v = 1; v < VECTORS; v++) if (isr_max[v]) printf(" v%d=%llu", v, (unsigned long long)isr_max[v]);
    putchar('\n');
    memset(isr_max, 0, sizeof isr_max);
  }
  else if (strncmp(line, "ms?", 3) == 0) printf("ms %llu\n", (unsigned long long)(avr->cycle * 1000 / F_CPU));
  else if (strncmp(line, "quit", 4) == 0) return 0;
  else printf("error unknown command: %s\n", line);
  fflush(stdout);
  return 1;
}

static double wall_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  double speed = 1.0;
  const char *elf = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--speed") && i + 1 < argc) speed = atof(argv[++i]);
    else if (!strcmp(argv[i], "--quiet")) quiet = 1;
    else elf = argv[i];
  }
  if (!elf) { fprintf(stderr, "usage: %s [--speed N] firmware.elf\n", argv[0]); return 2; }

  elf_firmware_t fw;
  memset(&fw, 0, sizeof fw);
  if (elf_read_firmware(elf, &fw) != 0) { fprintf(stderr, "cannot read %s\n", elf); return 1; }
  avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) { fprintf(stderr, "no atmega328p core in simavr\n"); return 1; }
  avr_init(avr);
  avr_load_firmware(avr, &fw);
  avr->frequency = (uint32_t)F_CPU;
  avr->vcc = avr->avcc = avr->aref = 5000;
  avr->log = quiet ? 0 : 1;

  /* the board's inputs at rest: 25 °C pad and head, 1 kΩ electrodes, head coupled, stop released */
  set_adc(0, 512);
  set_adc(1, 93);
  set_adc(2, 93);
  set_adc(3, 800);
  set_adc(4, 512);
  set_stop(0);

  for (int i = 0; i < P_COUNT; i++)
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(pins[i].port), pins[i].bit), pin_hook, &pins[i]);
  avr_cycle_timer_register(avr, WINDOW_CYCLES, window_timer, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), rx_hook, NULL);
  avr_irq_register_notify(avr_get_interrupt_irq(avr, 9 /* TIMER2_OVF */) + AVR_INT_IRQ_PENDING, tick_hook, NULL);
  for (int v = 1; v < VECTORS; v++) {
    avr_irq_t *irq = avr_get_interrupt_irq(avr, (uint8_t)v);
    if (irq) avr_irq_register_notify(irq + AVR_INT_IRQ_RUNNING, isr_hook, (void *)(intptr_t)v);
  }

  /* uart_pty prints its own banner on stdout; keep ours parseable after it */
  uart_pty_init(avr, &uart);
  uart_pty_connect(&uart, '0');
  avr_cycle_timer_register(avr, avr_usec_to_cycles(avr, 500), pty_pump, &uart);
  printf("pty %s\n%s\nready\n", uart.pty.slavename, uart.pty.slavename);
  fflush(stdout);

  char line[256];
  size_t len = 0;
  double t0 = wall_s();
  avr_cycle_count_t next_check = 0;
  const avr_cycle_count_t check_every = F_CPU / 1000;
  for (;;) {
    int state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) {
      fprintf(stderr, "firmware stopped (state %d) at cycle %llu\n", state, (unsigned long long)avr->cycle);
      printf("crashed\n");
      fflush(stdout);
      return 1;
    }
    if (avr->cycle < next_check) continue;
    next_check = avr->cycle + check_every;
    if (((avr->data[R_PIND] >> 2) & 1) != stop_level) set_stop(stop_level);

    /* control channel */
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    while (poll(&pfd, 1, 0) > 0) {
      if (pfd.revents & (POLLHUP | POLLERR) && !(pfd.revents & POLLIN)) goto out;
      ssize_t n = read(0, line + len, sizeof line - 1 - len);
      if (n <= 0) goto out;
      len += (size_t)n;
      line[len] = 0;
      char *nl;
      while ((nl = memchr(line, '\n', len))) {
        *nl = 0;
        if (!command(line)) goto out;
        size_t used = (size_t)(nl - line) + 1;
        memmove(line, nl + 1, len - used);
        len -= used;
      }
      if (len >= sizeof line - 1) len = 0; /* an over-long line: drop it */
    }

    /* pace against the wall clock */
    if (speed > 0) {
      double sim = (double)avr->cycle / (double)F_CPU / speed;
      double ahead = sim - (wall_s() - t0);
      if (ahead > 0.0005) {
        struct timespec ts = {.tv_sec = (time_t)ahead, .tv_nsec = (long)((ahead - (double)(time_t)ahead) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
  }
out:
  uart_pty_stop(&uart);
  return 0;
}
