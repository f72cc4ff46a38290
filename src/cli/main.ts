// placeholder entry replaced by the CLI work
export {};
