/** @loom/ca — placeholder entry point; see README.md. */
export {};
