# RubyGems. Input lines on stdin:
#   cmp<TAB>a<TAB>b   -> Gem::Version <=> as -1/0/1, E if either is malformed
#   valid<TAB>v       -> true/false (Gem::Version.correct?)
#   req<TAB>v<TAB>r   -> Gem::Requirement.new(*r.split(",")).satisfied_by?(v), E if invalid
out = []
$stdin.each_line do |line|
  p = line.chomp.split("\t", -1)
  begin
    case p[0]
    when "cmp"
      out << (Gem::Version.new(p[1]) <=> Gem::Version.new(p[2])).to_s
    when "valid"
      out << (Gem::Version.correct?(p[1]) ? "true" : "false")
    when "req"
      r = Gem::Requirement.new(*p[2].split(","))
      out << (r.satisfied_by?(Gem::Version.new(p[1])) ? "true" : "false")
    else
      out << "E"
    end
  rescue ArgumentError, Gem::Requirement::BadRequirementError
    out << "E"
  end
end
$stdout.write(out.map { |l| l + "\n" }.join)
