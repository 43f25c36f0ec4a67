/**
 * The host's retransmit budget (maxTries × retransmitMs) is counted on the board's own
 * clock, as the board's frames report it (docs/protocol.md, "The host's side of the
 * link"): a board that answers late because its clock itself runs slow (a simulated AVR
 * behind real time on a loaded machine) is not given up, one that answers as late on its
 * own clock is. On the virtual clock, against a board whose clock runs `ppm` off.
 */
import { describe, expect, it } from 'vitest';
import { HOST_TIMING } from '../../src/drivers/wire/spec.js';
import { connectDrift } from './drift-board.js';

const BUDGET_MS = HOST_TIMING.maxTries * HOST_TIMING.retransmitMs;

describe('the retransmit budget runs on the board clock', () => {
  it('a board at a fifth of real time answering each frame 1.5 budgets late (host time): the link holds and the frames are answered', async () => {
    const { clock, fake, board, events } = await connectDrift(-800_000);
    fake.answerDelayMs = () => BUDGET_MS * 1.5; // 600 ms of host time = 120 ms on the board's clock
    const before = board.counters().framesSent;
    clock.advance(20_000);
    expect(events.filter((e) => e.type === 'linkLost')).toEqual([]);
    // It kept the line busy: PINGs went out and were answered (each after a few tries).
    expect(board.counters().framesSent - before).toBeGreaterThan(20);
    expect(board.counters().framesReceived).toBeGreaterThan(20);
    expect(board.counters().retransmits).toBeGreaterThan(0);
  });

  it('a board at real speed answering as late: the link is given up once its clock has moved on past the budget', async () => {
    const { clock, fake, events } = await connectDrift(0);
    fake.answerDelayMs = () => BUDGET_MS * 1.5;
    clock.advance(5_000);
    const lost = events.filter((e) => e.type === 'linkLost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ reason: expect.stringMatching(/did not acknowledge PING after \d+ tries/) });
  });
});
