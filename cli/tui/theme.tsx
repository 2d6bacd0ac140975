/**
 * Colours, honouring NO_COLOR (https://no-color.org): when it is set and not empty, nothing is
 * coloured and every state is still readable from its text (markers, labels).
 */
import { Text as InkText, type TextProps } from "ink";
import { createContext, useContext, type ReactNode } from "react";
import { Health } from "./model.js";

/** The colours the screens use. */
export interface Theme {
  color: boolean;
}

/** Whether the environment asks for no colour. */
export function themeFromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
  const v = env["NO_COLOR"];
  return { color: v === undefined || v === "" };
}

const ThemeContext = createContext<Theme>({ color: true });

/** Provides the theme to the screens. */
export function ThemeProvider(props: { theme: Theme; children: ReactNode }): ReactNode {
  return <ThemeContext.Provider value={props.theme}>{props.children}</ThemeContext.Provider>;
}

/** Colour names used by the TUI. */
export type Hue = "red" | "yellow" | "green" | "cyan" | "gray" | "magenta" | "blue";

/** A colour, or undefined when colour is off. */
export function useHue(): (h: Hue | undefined) => Hue | undefined {
  const t = useContext(ThemeContext);
  return (h) => (t.color ? h : undefined);
}

/** The colour of a health level. */
export function healthHue(h: Health): Hue | undefined {
  return h === Health.Bad ? "red" : h === Health.Warn ? "yellow" : undefined;
}

/** A two-character marker of a health level, readable without colour. */
export function healthMark(h: Health): string {
  return h === Health.Bad ? "!!" : h === Health.Warn ? "! " : "  ";
}

/** ink's Text, taking a colour that may be off (undefined), as {@link useHue} returns. */
export function Text(props: Omit<TextProps, "color"> & { color?: Hue | undefined }): ReactNode {
  const { color, ...rest } = props;
  return <InkText {...rest} {...(color !== undefined ? { color } : {})} />;
}
