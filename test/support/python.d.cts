/** Existing Python executables the tests may use, best first: $RPO_TEST_PYTHON, then .rpo-test/python found from `from` upwards. */
export function testPythons(from: string): string[];
/** The first of testPythons(from), or undefined. */
export function testPython(from: string): string | undefined;
/** testPython(from), or an error that says how to get one. */
export function requireTestPython(from: string): string;
