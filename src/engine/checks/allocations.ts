/**
 * Call names that hand out or give back memory, shared by the rules that
 * follow an allocation (missing-undo's error paths and field overwrites,
 * published-before-finished's fresh objects).
 */

/** Calls that hand out fresh memory: released by any free-like call on the result. */
export const ALLOCATES = /alloc|^kasprintf$|^kvasprintf$|^kstrdup|^kstrndup$|^kmemdup|_create$|_new$/;

/** Calls that free or drop what they are given. */
export const FREES = /(?:^|_)(?:free|put|release|destroy)(?:_|$)|^kv?free|^vfree|^kfree/;
