/** The board registry: --board parsing, the clock each board runs on, and opening the simulated board through it. */
import { describe, expect, it } from 'vitest';
import { RealClock, VirtualClock } from '../../src/clock.js';
import { BOARD_TYPES, BoardSpecError, boardSpecText, clockFor, openBoard, parseBoardSpec } from '../../src/drivers/registry.js';

describe('the board registry', () => {
  it('parses every --board it lists, and refuses anything else in one line', () => {
    expect(parseBoardSpec('sim')).toEqual({ kind: 'sim' });
    expect(parseBoardSpec('serial:/dev/ttyACM0')).toEqual({ kind: 'serial', path: '/dev/ttyACM0' });
    expect(parseBoardSpec('firmata:/dev/pts/3')).toEqual({ kind: 'firmata', path: '/dev/pts/3' });
    for (const bad of ['', 'serial', 'serial:', 'usb:/dev/x', 'sim:/dev/x', 'Sim']) expect(() => parseBoardSpec(bad), bad).toThrow(BoardSpecError);
    for (const text of ['sim', 'serial:/dev/ttyACM0', 'firmata:COM3']) expect(boardSpecText(parseBoardSpec(text))).toBe(text);
    expect(Object.keys(BOARD_TYPES).sort()).toEqual(['firmata', 'serial', 'sim']);
  });

  it('runs the simulated board on a virtual clock and hardware on the real one', () => {
    expect(clockFor({ kind: 'sim' })).toBeInstanceOf(VirtualClock);
    expect(clockFor({ kind: 'serial', path: '/dev/null' })).toBeInstanceOf(RealClock);
    expect(clockFor({ kind: 'firmata', path: '/dev/null' })).toBeInstanceOf(RealClock);
  });

  it('opens the simulated board, shaped as asked, with its fault controls, and closes it', async () => {
    const spec = parseBoardSpec('sim');
    const clock = clockFor(spec);
    const opened = await openBoard(spec, clock, { seed: 3, simBoard: { tensChannels: 1, hasUltrasound: false, hasPad: true } });
    expect(opened.board.info).toMatchObject({ kind: 'simulated', tensChannels: 1, hasUltrasound: false, hasPad: true, timing: 'board' });
    expect(opened.clock).toBe(clock);
    expect(opened.warning).toBeNull();
    expect(opened.sim).not.toBeNull();
    await opened.close();
  });

  it('refuses to open the simulated board on the real clock', async () => {
    await expect(openBoard({ kind: 'sim' }, new RealClock())).rejects.toThrow(/VirtualClock/);
  });
});
