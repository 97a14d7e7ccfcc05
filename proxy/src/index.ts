/** @loom/proxy — placeholder entry point; see README.md. */
export {};
