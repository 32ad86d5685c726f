// containerctl importer commands (placeholder: filled in by the importer work).
import type { Command } from "commander";

export function register(_program: Command): void {}
