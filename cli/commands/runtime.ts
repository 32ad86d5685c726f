// containerctl runtime commands (placeholder: filled in by the runtime work).
import type { Command } from "commander";

export function register(_program: Command): void {}
