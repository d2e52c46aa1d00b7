/// Finds the TOML text known to abort TOMLKit's parser instead of failing (toml++ 3.4 asserts, so
/// `check-config` died with SIGABRT and a `systemctl reload` took canaryd down; found by the fuzz
/// target `fuzz-config`):
/// - a table header whose first character is neither a bare-key character nor a quote (`[#daemon]`,
///   `[.engine]`, `[=]`, a `[` ending its line): an assertion in `parse_key`;
/// - a `}` where an array expects a value (`x = [}`, `x = [1, }`): an assertion in `parse_value`.
///
/// It follows comments, strings (basic, literal, multi-line), arrays and inline tables as TOML does,
/// so a valid document is never refused.
enum TOMLPreflight {
    /// The first such construct: its 1-based line and what is wrong there; nil when there is none.
    static func firstAbortingConstruct(_ text: String) -> (line: Int, reason: String)? {
        var b = Array(text.utf8)[...]
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { b = b.dropFirst(3) }  // a UTF-8 byte order mark
        var i = b.startIndex
        var line = 1
        var open: [UInt8] = []  // the arrays and inline tables open here, innermost last
        var lineStart = true  // nothing but whitespace since the last newline
        var arrayValueNext = false  // after an array's `[` or `,`: a value or `]` comes next
        while i < b.endIndex {
            let c = b[i]
            if arrayValueNext && c == closeBrace { return (line, "'}' where an array expects a value or ']'") }
            if c != newline && c != space && c != tab && c != carriageReturn && c != hash { arrayValueNext = false }
            switch c {
            case newline:
                line += 1
                lineStart = true
                i += 1
                continue
            case space, tab, carriageReturn:
                i += 1
                continue
            case hash:
                while i < b.endIndex && b[i] != newline { i += 1 }
                continue
            case doubleQuote, singleQuote:
                i = skipString(b, from: i, line: &line)
            case openBracket where open.isEmpty && lineStart:
                var j = i + 1
                if j < b.endIndex && b[j] == openBracket { j += 1 }
                while j < b.endIndex && (b[j] == space || b[j] == tab) { j += 1 }
                guard j < b.endIndex, isBareKey(b[j]) || b[j] == doubleQuote || b[j] == singleQuote else {
                    return (line, "a table header starts with a key (a letter, digit, '_', '-' or a quote)")
                }
                i = j
            case openBracket, openBrace:
                open.append(c)
                arrayValueNext = c == openBracket
                i += 1
            case closeBracket, closeBrace:
                _ = open.popLast()
                i += 1
            case comma:
                arrayValueNext = open.last == openBracket
                i += 1
            default:
                i += 1
            }
            lineStart = false
        }
        return nil
    }

    /// The index just past the string starting at `start` (or where an unterminated one gives up).
    private static func skipString(_ b: ArraySlice<UInt8>, from start: Int, line: inout Int) -> Int {
        let quote = b[start]
        let multiLine = start + 2 < b.endIndex && b[start + 1] == quote && b[start + 2] == quote
        var i = start + (multiLine ? 3 : 1)
        while i < b.endIndex {
            let c = b[i]
            if c == backslash && quote == doubleQuote {
                i += 2
                continue
            }
            if c == newline {
                guard multiLine else { return i }  // unterminated: the line ends it
                line += 1
            }
            if c == quote {
                if !multiLine { return i + 1 }
                if i + 2 < b.endIndex && b[i + 1] == quote && b[i + 2] == quote {
                    var end = i + 3
                    while end < b.endIndex && b[end] == quote && end < i + 5 { end += 1 }  // up to two quotes may close it too
                    return end
                }
            }
            i += 1
        }
        return b.endIndex
    }

    private static func isBareKey(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    private static let newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20, tab: UInt8 = 0x09
    private static let comma: UInt8 = 0x2C, hash: UInt8 = 0x23, doubleQuote: UInt8 = 0x22, singleQuote: UInt8 = 0x27, backslash: UInt8 = 0x5C
    private static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D, openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
}
