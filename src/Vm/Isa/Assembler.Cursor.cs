namespace VethXdp.Vm.Isa;

public static partial class Assembler
{
    /// <summary>A scanner over one line: skips blanks, matches literals, words, registers and numbers.</summary>
    private ref struct Cursor
    {
        private readonly string _s;

        public Cursor(string text, int line)
        {
            _s = text;
            Line = line;
        }

        public int Line { get; }

        public int Pos { get; set; }

        public bool AtEnd
        {
            get
            {
                SkipWs();
                return Pos >= _s.Length;
            }
        }

        public string Rest => _s[Math.Min(Pos, _s.Length)..];

        public char Peek()
        {
            SkipWs();
            return Pos < _s.Length ? _s[Pos] : '\0';
        }

        public AssemblerException Error(string reason) => new(Line, reason);

        /// <summary>Matches punctuation or an operator.</summary>
        public bool TryLit(string lit)
        {
            SkipWs();
            if (Pos + lit.Length <= _s.Length && string.CompareOrdinal(_s, Pos, lit, 0, lit.Length) == 0)
            {
                Pos += lit.Length;
                return true;
            }

            return false;
        }

        /// <summary>Matches the first of <paramref name="ops"/> present (list longer operators first).</summary>
        public string? TryAny(ReadOnlySpan<string> ops)
        {
            foreach (var op in ops)
            {
                if (TryLit(op))
                {
                    return op;
                }
            }

            return null;
        }

        public void Expect(string lit)
        {
            if (!TryLit(lit))
            {
                throw Error(AtEnd ? $"missing '{lit}'" : $"expected '{lit}' at '{Rest}'");
            }
        }

        /// <summary>Matches a keyword that is not followed by more identifier characters.</summary>
        public bool TryWord(string word)
        {
            int save = Pos;
            if (TryLit(word) && (Pos >= _s.Length || !IsIdentChar(_s[Pos])))
            {
                return true;
            }

            Pos = save;
            return false;
        }

        public void ExpectWord(string word)
        {
            if (!TryWord(word))
            {
                throw Error(AtEnd ? $"missing '{word}'" : $"expected '{word}' at '{Rest}'");
            }
        }

        public string? TryIdent()
        {
            SkipWs();
            int start = Pos;
            if (Pos < _s.Length && (char.IsAsciiLetter(_s[Pos]) || _s[Pos] == '_'))
            {
                while (Pos < _s.Length && IsIdentChar(_s[Pos]))
                {
                    Pos++;
                }

                return _s[start..Pos];
            }

            return null;
        }

        /// <summary>Matches <c>rN</c> or <c>wN</c>; N above 10 is an error.</summary>
        public bool TryReg(out int reg, out bool w)
        {
            reg = 0;
            w = false;
            SkipWs();
            if (Pos + 1 >= _s.Length || _s[Pos] is not ('r' or 'w') || !char.IsAsciiDigit(_s[Pos + 1]))
            {
                return false;
            }

            int p = Pos + 1;
            while (p < _s.Length && char.IsAsciiDigit(_s[p]))
            {
                p++;
            }

            if (p < _s.Length && IsIdentChar(_s[p]))
            {
                return false;
            }

            string text = _s[Pos..p];
            if (p - Pos > 3 || (reg = int.Parse(text.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)) > 10)
            {
                throw Error($"invalid register '{text}'");
            }

            w = _s[Pos] == 'w';
            Pos = p;
            return true;
        }

        public int ExpectReg(out bool w)
        {
            if (!TryReg(out int reg, out w))
            {
                throw Error(AtEnd ? "missing register operand" : $"expected a register at '{Rest}'");
            }

            return reg;
        }

        /// <summary>Matches an optionally signed decimal or 0x-hex number.</summary>
        public bool TryNumber(out Num num)
        {
            num = default;
            SkipWs();
            int start = Pos, p = Pos;
            bool negative = false;
            if (p < _s.Length && _s[p] is '+' or '-')
            {
                negative = _s[p] == '-';
                p++;
            }

            if (p >= _s.Length || !char.IsAsciiDigit(_s[p]))
            {
                return false;
            }

            bool hex = p + 1 < _s.Length && _s[p] == '0' && _s[p + 1] is 'x' or 'X';
            int digits = hex ? p + 2 : p;
            int end = digits;
            while (end < _s.Length && (hex ? char.IsAsciiHexDigit(_s[end]) : char.IsAsciiDigit(_s[end])))
            {
                end++;
            }

            string text = _s[start..end];
            if (end == digits || (end < _s.Length && IsIdentChar(_s[end])))
            {
                throw Error($"invalid number '{_s[start..Math.Min(_s.Length, end + 1)]}'");
            }

            var style = hex ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.None;
            if (!ulong.TryParse(_s.AsSpan(digits, end - digits), style, System.Globalization.CultureInfo.InvariantCulture, out ulong mag))
            {
                throw Error($"number {text} does not fit in 64 bits");
            }

            Pos = end;
            num = new Num(mag, negative, hex, text);
            return true;
        }

        public Num ExpectNumber(string what)
        {
            if (!TryNumber(out var num))
            {
                throw Error(AtEnd ? $"missing {what}" : $"expected {what} at '{Rest}'");
            }

            return num;
        }

        public void ExpectEnd()
        {
            if (!AtEnd)
            {
                throw Error($"unexpected '{Rest}'");
            }
        }

        private void SkipWs()
        {
            while (Pos < _s.Length && char.IsWhiteSpace(_s[Pos]))
            {
                Pos++;
            }
        }
    }
}
