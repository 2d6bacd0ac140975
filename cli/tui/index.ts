/** `junction tui`: the terminal UI's front door. */
import { render } from "ink";
import { createElement } from "react";
import { App, type Route } from "./app.js";
import type { TuiSource } from "./source.js";
import { themeFromEnv } from "./theme.js";

export { App, HELP_TEXT } from "./app.js";
export { sdkSource } from "./source.js";
export { themeFromEnv } from "./theme.js";
export type { AppProps, Route } from "./app.js";
export type { TuiSource, TuiEvent, LinkState, SdkSourceOptions } from "./source.js";
export type { Theme } from "./theme.js";

/** Options of {@link runTui}. */
export interface TuiOptions {
  /** Opens the data source (retried while the broker is unreachable). */
  open: () => Promise<TuiSource>;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Read for NO_COLOR. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default 1500 */
  pollMs?: number;
  initial?: Route;
}

/** Switches to the terminal's alternate screen (as full-screen programs do) and back. */
const ALT_SCREEN_ON = "\u001b[?1049h";
const ALT_SCREEN_OFF = "\u001b[?1049l";

/**
 * Runs the TUI until the user quits. It draws on the alternate screen, so the shell's scrollback
 * is left as it was, and redraws the whole screen when the terminal is resized.
 */
export async function runTui(o: TuiOptions): Promise<void> {
  const stdout = o.stdout ?? process.stdout;
  stdout.write(ALT_SCREEN_ON);
  try {
    await renderUntilExit(o, stdout);
  } finally {
    stdout.write(ALT_SCREEN_OFF);
  }
}

async function renderUntilExit(o: TuiOptions, stdout: NodeJS.WriteStream): Promise<void> {
  const instance = render(
    createElement(App, {
      open: o.open,
      theme: themeFromEnv(o.env),
      ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
      ...(o.initial ? { initial: o.initial } : {}),
    }),
    {
      stdin: o.stdin ?? process.stdin,
      stdout,
      exitOnCtrlC: false,
      patchConsole: true,
    },
  );
  await instance.waitUntilExit();
}
